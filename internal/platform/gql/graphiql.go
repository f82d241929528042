package gql

// graphiQLCSP opens the page's Content-Security-Policy to the CDN that
// serves GraphiQL; the queries it sends stay on this origin.
const graphiQLCSP = "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; style-src 'self' 'unsafe-inline' https://unpkg.com; " +
	"img-src 'self' data: https:; font-src 'self' data: https://unpkg.com; connect-src 'self'"

// graphiQL is the page a browser gets on GET /graphql: the GraphiQL IDE
// against this endpoint. Paste an access token as
// {"Authorization": "Bearer …"} in its headers tab for your own orders.
const graphiQL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Commerce GraphQL</title>
<style>body { height: 100vh; margin: 0; } #graphiql { height: 100vh; }</style>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
<script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
<script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
<script>
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }));
</script>
</body>
</html>
`
