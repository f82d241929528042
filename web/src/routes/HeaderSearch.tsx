import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useNavigate, useRouterState } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { useDebounced } from "../useDebounced";

// How long typing must pause before the search page refreshes its
// results, and before suggestions are asked for.
const LIVE_DELAY = 120;


// HeaderSearch is the search field of every page: suggestions while
// typing (names and corrected words from /search/suggest), and on the
// search page the results follow the typing itself (replacing the
// history entry, so Back leaves the search rather than replaying
// keystrokes).
export function HeaderSearch() {
  const navigate = useNavigate();
  const loc = useRouterState({ select: (s) => s.location });
  const onSearchPage = loc.pathname === "/search";
  const urlQ = onSearchPage ? ((loc.search as { q?: string }).q ?? "") : "";
  const [q, setQ] = useState(urlQ);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const typed = useRef(false);
  const listId = useId();
  const debounced = useDebounced(q.trim(), LIVE_DELAY);

  // The field shows the page's query when the URL changes by other means.
  // Leaving the search page clears it.
  useEffect(() => {
    if (!onSearchPage) typed.current = false;
    if (!typed.current) setQ(urlQ);
  }, [urlQ, onSearchPage]);

  useEffect(() => {
    if (!typed.current || !onSearchPage || debounced === urlQ.trim()) return;
    void navigate({ to: "/search", search: (prev) => ({ ...prev, q: debounced || undefined, cursor: undefined }), replace: true });
    // Only typing drives this; the URL catching up must not re-trigger it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  const sugg = useQuery({
    queryKey: ["suggest", debounced],
    enabled: open && debounced.length >= 2,
    staleTime: 60_000,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/search/suggest", { params: { query: { q: debounced, limit: 6 } }, signal })),
  });
  const items = open && debounced.length >= 2 ? (sugg.data?.suggestions ?? []).filter((s) => s.toLowerCase() !== q.trim().toLowerCase()) : [];

  function go(value: string) {
    typed.current = false;
    setOpen(false);
    setActive(-1);
    setQ(value);
    void navigate({ to: "/search", search: { q: value.trim() || undefined } });
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    go(active >= 0 && items[active] ? items[active] : q);
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (items.length === 0) return;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => (a + 1) % items.length);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => (a <= 0 ? items.length - 1 : a - 1));
    } else if (e.key === "Escape") {
      setOpen(false);
      setActive(-1);
    }
  }

  return (
    <form role="search" className="search" onSubmit={onSubmit}>
      <div className="search-box">
        <input
          type="search"
          aria-label="Search products"
          placeholder="Search products"
          autoComplete="off"
          value={q}
          aria-controls={items.length > 0 ? listId : undefined}
          aria-activedescendant={active >= 0 && items[active] ? `${listId}-${active}` : undefined}
          onChange={(e) => {
            typed.current = true;
            setQ(e.target.value);
            setOpen(true);
            setActive(-1);
          }}
          onKeyDown={onKeyDown}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
        />
        {items.length > 0 ? (
          <ul id={listId} role="listbox" aria-label="Suggestions" className="suggestions">
            {items.map((s, i) => (
              <li
                key={s}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                onMouseDown={(e) => {
                  e.preventDefault();
                  go(s);
                }}
              >
                {s}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <button type="submit">Search</button>
    </form>
  );
}
