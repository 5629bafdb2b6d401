-- Exchange rates for the cost forecast: 1 unit of from_currency = rate units of
-- to_currency, from effective_date on (the latest effective on a day applies).
CREATE TABLE exchange_rates (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    from_currency  TEXT NOT NULL,
    to_currency    TEXT NOT NULL,
    rate           TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX exchange_rates_key ON exchange_rates(org_id, from_currency, to_currency, effective_date);
