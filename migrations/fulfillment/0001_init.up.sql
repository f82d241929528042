CREATE SCHEMA IF NOT EXISTS fulfillment;

-- Destination zones: each country belongs to at most one zone; countries in
-- no zone fall into the zone marked is_default.
CREATE TABLE fulfillment.zones (
    code       text    PRIMARY KEY,
    name       text    NOT NULL,
    countries  text[]  NOT NULL DEFAULT '{}',
    is_default boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX zones_one_default ON fulfillment.zones (is_default) WHERE is_default;

-- Rates by courier, zone and weight band [min_weight_grams, max_weight_grams).
CREATE TABLE fulfillment.rates (
    courier          text    NOT NULL CHECK (courier IN ('standard', 'express')),
    zone             text    NOT NULL REFERENCES fulfillment.zones (code) ON DELETE CASCADE,
    currency         char(3) NOT NULL,
    min_weight_grams int     NOT NULL CHECK (min_weight_grams >= 0),
    max_weight_grams int     NOT NULL CHECK (max_weight_grams > min_weight_grams),
    cost             bigint  NOT NULL CHECK (cost >= 0),
    eta_days         int     NOT NULL CHECK (eta_days > 0),
    PRIMARY KEY (courier, zone, currency, min_weight_grams)
);

INSERT INTO fulfillment.zones (code, name, countries, is_default) VALUES
    ('NA',  'North America', '{US,CA,MX}', false),
    ('EU',  'European Union', '{AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE}', false),
    ('UK',  'United Kingdom', '{GB}', false),
    ('ROW', 'Rest of the world', '{}', true);

-- Default rate card (minor units), USD and EUR.
INSERT INTO fulfillment.rates (courier, zone, currency, min_weight_grams, max_weight_grams, cost, eta_days)
SELECT c.courier, z.zone, cur.currency, b.lo, b.hi,
       (b.base * z.factor * c.factor * cur.factor)::bigint, z.days + c.days
FROM (VALUES ('standard', 1.0, 0), ('express', 2.0, -2)) AS c(courier, factor, days)
CROSS JOIN (VALUES ('NA', 1.0, 5), ('EU', 1.2, 6), ('UK', 1.3, 6), ('ROW', 2.5, 10)) AS z(zone, factor, days)
CROSS JOIN (VALUES ('USD', 1.0), ('EUR', 0.95)) AS cur(currency, factor)
CROSS JOIN (VALUES (0, 1000, 499), (1000, 5000, 899), (5000, 20000, 1999), (20000, 100000, 4999)) AS b(lo, hi, base);

CREATE TABLE fulfillment.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
