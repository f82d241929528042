// Monaco (GraphiQL 5's editor) runs its language services in web workers.
// Vite bundles each `?worker` import into a hashed file under /assets/ on
// this origin, so the page's CSP can keep worker-src to 'self': no worker
// is loaded from a CDN or built from a blob. This module must be imported
// before GraphiQL creates its first editor.
import type { Environment } from "monaco-editor";
import EditorWorker from "monaco-editor/esm/vs/editor/editor.worker.js?worker";
import JsonWorker from "monaco-editor/esm/vs/language/json/json.worker.js?worker";
import GraphQLWorker from "monaco-graphql/esm/graphql.worker.js?worker";

const environment: Environment = {
  getWorker(_workerId: string, label: string): Worker {
    switch (label) {
      case "json":
        return new JsonWorker();
      case "graphql":
        return new GraphQLWorker();
      default:
        return new EditorWorker();
    }
  },
};

window.MonacoEnvironment = environment;
