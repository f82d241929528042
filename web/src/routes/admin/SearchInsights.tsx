import { useId, useState } from "react";
import { Link } from "@tanstack/react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import type { components } from "../../api/schema";
import { QueryError } from "../QueryError";
import "./admin.css";

type Count = components["schemas"]["search.Count"];

// The server takes "7d" or a Go duration ("24h"), at most 90d.
const periods = [
  { value: "24h", label: "Last 24 hours" },
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "90d", label: "Last 90 days" },
] as const;
const limits = [10, 20, 50, 100] as const;

function Queries({ title, rows, empty, hits }: { title: string; rows: Count[]; empty: string; hits: boolean }) {
  const id = useId();
  return (
    <div>
      <h2 id={id}>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <div className="admin-table-wrap">
          <table className="admin-table" aria-labelledby={id}>
            <thead>
              <tr>
                <th scope="col">Query</th>
                <th scope="col" className="num">
                  Searches
                </th>
                {hits ? (
                  <th scope="col" className="num">
                    Avg. results
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.query}>
                  <td>
                    <Link to="/search" search={{ q: r.query }}>
                      {r.query}
                    </Link>
                  </td>
                  <td className="num">{r.count}</td>
                  {hits ? <td className="num">{r.avg_hits.toFixed(1)}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// SearchInsightsAdmin shows what shoppers search for over a period: the
// most frequent queries and the most frequent ones that found nothing
// (products to add, or synonyms to teach the search).
export function SearchInsightsAdmin() {
  const periodId = useId();
  const limitId = useId();
  const [period, setPeriod] = useState<string>("7d");
  const [limit, setLimit] = useState<number>(20);
  const report = useQuery({
    queryKey: ["admin", "search", "popular", period, limit],
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/search/popular", { params: { query: { period, limit } }, signal })),
    placeholderData: keepPreviousData,
    staleTime: 60_000,
  });

  return (
    <section className="admin-page">
      <h1>Search insights</h1>
      <div className="admin-filters">
        <div className="field">
          <label htmlFor={periodId}>Period</label>
          <select id={periodId} value={period} onChange={(e) => setPeriod(e.target.value)}>
            {periods.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={limitId}>Show</label>
          <select id={limitId} value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
            {limits.map((n) => (
              <option key={n} value={n}>
                Top {n}
              </option>
            ))}
          </select>
        </div>
      </div>
      {report.error ? <QueryError error={report.error} /> : null}
      {report.isPending ? <p role="status">Loading…</p> : null}
      {report.data ? (
        <>
          <p className="admin-note" role="status">
            Searches since {new Date(report.data.since).toLocaleString()}
            {report.isPlaceholderData ? " (updating…)" : ""}.
          </p>
          <div className="insights">
            <Queries title="Popular queries" rows={report.data.popular} empty="No searches in this period." hits />
            <Queries title="Queries with no results" rows={report.data.zero_hits} empty="Every search found something." hits={false} />
          </div>
        </>
      ) : null}
    </section>
  );
}
