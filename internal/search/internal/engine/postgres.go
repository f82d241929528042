package engine

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Postgres searches the read model with weighted full text; words not in
// the dictionary of product words are widened to their closest trigram
// matches ("hedphones" → headphones), so a typo still finds.
type Postgres struct{ db *pg.DB }

// NewPostgres builds the backend.
func NewPostgres(db *pg.DB) *Postgres { return &Postgres{db: db} }

// Name implements Backend.
func (*Postgres) Name() string { return "postgres" }

// closeEnough keeps a correction only if it is at least this share of the
// best correction's similarity.
const closeEnough = 0.8

// minTypoLen is the shortest word that is typo-corrected: shorter ones
// have too few trigrams to be told apart.
const minTypoLen = 4

// TSQuery builds the text query: every word must match (AND); a word
// matches itself or, when it is not a known word, its closest known
// words; the last word also matches as a prefix (search as you type).
// Words hold only letters and digits (Words), so nothing in them is
// tsquery syntax.
func TSQuery(ctx context.Context, db *pg.DB, words []string) (string, error) {
	alts := map[string][]string{}
	var check []string
	for _, w := range words {
		if len([]rune(w)) >= minTypoLen {
			check = append(check, w)
		}
	}
	if len(check) > 0 {
		var rows []struct {
			Word string  `bun:"word"`
			Term string  `bun:"term"`
			Sim  float64 `bun:"sim"`
		}
		err := db.NewRaw(`SELECT w.word, t.term, t.sim FROM unnest(?::text[]) AS w(word)
			CROSS JOIN LATERAL (SELECT term, similarity(term, w.word)::float8 AS sim FROM search.terms WHERE term % w.word
			                    ORDER BY sim DESC, term LIMIT 3) t`, pgdialect.Array(check)).Scan(ctx, &rows)
		if err != nil {
			return "", err
		}
		best := map[string]float64{}
		for _, r := range rows { // best first per word
			if _, ok := best[r.Word]; !ok {
				best[r.Word] = r.Sim
			}
			// A much weaker candidate than the best is another word, not
			// the intended one ("chargr": charger 0.5, chair 0.3).
			if r.Sim >= best[r.Word]*closeEnough {
				alts[r.Word] = append(alts[r.Word], r.Term)
			}
		}
	}
	parts := make([]string, 0, len(words))
	for i, w := range words {
		group := []string{w}
		if i == len(words)-1 && len([]rune(w)) >= 2 {
			group[0] = w + ":*"
		}
		known := false
		for _, t := range alts[w] {
			if t == w {
				known = true
			}
		}
		if !known {
			for _, t := range alts[w] {
				if ws := Words(t); len(ws) == 1 && ws[0] == t {
					group = append(group, t)
				}
			}
		}
		parts = append(parts, "("+strings.Join(group, " | ")+")")
	}
	return strings.Join(parts, " & "), nil
}

// Search implements Backend: one round trip for the dictionary, one for
// hits, total and facets together.
func (p *Postgres) Search(ctx context.Context, q Query) (Result, error) {
	began := time.Now()
	words, sort, cur, done, err := plan(q)
	if done || err != nil {
		return emptyResult(), err
	}
	var args []any
	rank := "0::real"
	from := "search.products p"
	where := []string{"p.status = 'active'"}
	if len(words) > 0 {
		tsq, err := TSQuery(ctx, p.db, words)
		if err != nil {
			return Result{}, err
		}
		from += ", to_tsquery('english', ?) q"
		args = append(args, tsq)
		where = append(where, "p.tsv @@ q")
		rank = "ts_rank(p.tsv, q)"
	}
	if q.Category != "" {
		where = append(where, "p.category = ?")
		args = append(args, q.Category)
	}
	if q.Brand != "" {
		where = append(where, "p.brand = ?")
		args = append(args, q.Brand)
	}
	if q.MinPrice != nil {
		where = append(where, "p.price >= ?")
		args = append(args, *q.MinPrice)
	}
	if q.MaxPrice != nil {
		where = append(where, "p.price <= ?")
		args = append(args, *q.MaxPrice)
	}
	var order, after string
	var afterArgs []any
	switch sort {
	case SortRelevance:
		order = "m.rank DESC, m.id"
		after, afterArgs = "(m.rank < ?::real OR (m.rank = ?::real AND m.id > ?))", []any{cur.Rank, cur.Rank, cur.ID}
	case SortPriceAsc:
		order = "m.price, m.id"
		after, afterArgs = "(m.price, m.id) > (?, ?)", []any{cur.Price, cur.ID}
	case SortPriceDesc:
		order = "m.price DESC, m.id"
		after, afterArgs = "(m.price < ? OR (m.price = ? AND m.id > ?))", []any{cur.Price, cur.Price, cur.ID}
	default:
		order = "m.created_at DESC, m.id DESC"
		after, afterArgs = "(m.created_at, m.id) < (?, ?)", []any{cur.Created, cur.ID}
	}
	page := "true"
	if cur.ID != "" {
		page = after
		args = append(args, afterArgs...)
	}
	args = append(args, q.Limit+1)
	var bucket strings.Builder
	bucket.WriteString("CASE")
	for _, b := range PriceBuckets {
		if b.To == 0 {
			bucket.WriteString(" ELSE '" + b.Label + "' END")
		} else {
			bucket.WriteString(" WHEN price < " + itoa(b.To) + " THEN '" + b.Label + "'")
		}
	}
	sql := `WITH m AS MATERIALIZED (
			SELECT p.id, p.price, p.created_at, p.category, p.brand, ` + rank + ` AS rank
			FROM ` + from + ` WHERE ` + strings.Join(where, " AND ") + `)
		SELECT (SELECT count(*) FROM m) AS total,
			(SELECT coalesce(jsonb_object_agg(category, n), '{}') FROM (SELECT category, count(*) n FROM m GROUP BY category) x) AS categories,
			(SELECT coalesce(jsonb_object_agg(brand, n), '{}') FROM (SELECT brand, count(*) n FROM m WHERE brand <> '' GROUP BY brand) x) AS brands,
			(SELECT coalesce(jsonb_object_agg(b, n), '{}') FROM (SELECT ` + bucket.String() + ` AS b, count(*) n FROM m GROUP BY 1) x) AS prices,
			(SELECT coalesce(jsonb_agg(jsonb_build_object('doc', d.doc || jsonb_build_object('stock', jsonb_build_object(
					'on_hand', coalesce(s.on_hand, 0), 'reserved', coalesce(s.reserved, 0), 'available', coalesce(s.on_hand - s.reserved, 0))),
				'r', m.rank, 'p', m.price, 't', m.created_at, 'i', m.id) ORDER BY ` + order + `), '[]')
			 FROM (SELECT * FROM m WHERE ` + page + ` ORDER BY ` + order + ` LIMIT ?) m
			 JOIN search.products d ON d.id = m.id LEFT JOIN search.stock s ON s.product_id = m.id) AS hits`
	var row struct {
		Total      int             `bun:"total"`
		Categories json.RawMessage `bun:"categories"`
		Brands     json.RawMessage `bun:"brands"`
		Prices     json.RawMessage `bun:"prices"`
		Hits       json.RawMessage `bun:"hits"`
	}
	if err := p.db.NewRaw(sql, args...).Scan(ctx, &row); err != nil {
		return Result{}, err
	}
	res := emptyResult()
	res.Total = row.Total
	_ = json.Unmarshal(row.Categories, &res.Facets.Category)
	_ = json.Unmarshal(row.Brands, &res.Facets.Brand)
	_ = json.Unmarshal(row.Prices, &res.Facets.Price)
	var hits []struct {
		Doc     json.RawMessage `json:"doc"`
		Rank    float32         `json:"r"`
		Price   int64           `json:"p"`
		Created time.Time       `json:"t"`
		ID      string          `json:"i"`
	}
	if err := json.Unmarshal(row.Hits, &hits); err != nil {
		return Result{}, err
	}
	if len(hits) > q.Limit {
		hits = hits[:q.Limit]
		last := hits[len(hits)-1]
		res.NextCursor = encodeCursor(cursorState{Sort: sort, Rank: last.Rank, Price: last.Price, Created: last.Created, ID: last.ID})
	}
	for _, h := range hits {
		res.Hits = append(res.Hits, h.Doc)
	}
	res.TookMS = ms(time.Since(began))
	return res, nil
}

// Suggest implements Backend: names starting with the prefix, then
// dictionary words starting with it or close to it.
func (p *Postgres) Suggest(ctx context.Context, prefix string, limit int) ([]string, error) {
	words := Words(prefix)
	if len(words) == 0 {
		return []string{}, nil
	}
	norm := strings.Join(words, " ")
	last := words[len(words)-1]
	var out []string
	err := p.db.NewRaw(`(SELECT name FROM search.products WHERE status = 'active' AND lower(name) LIKE ? ESCAPE '\' GROUP BY name ORDER BY name LIMIT ?)
		UNION ALL
		(SELECT term FROM search.terms WHERE term LIKE ? ESCAPE '\' OR term % ? ORDER BY term LIKE ? ESCAPE '\' DESC, similarity(term, ?) DESC, term LIMIT ?)`,
		likePrefix(norm), limit, likePrefix(last), last, likePrefix(last), last, limit).Scan(ctx, &out)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	res := make([]string, 0, limit)
	for _, s := range out {
		if k := strings.ToLower(s); !seen[k] && len(res) < limit {
			seen[k] = true
			res = append(res, s)
		}
	}
	return res, nil
}

// likePrefix escapes LIKE's wildcards (words hold none, but names may be
// matched against any normalised text) and appends %.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
