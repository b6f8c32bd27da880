-- Alerts raised by etl-audit and etl-ctl health: the record of what was
-- said, and the state that throttles repeats (one rule is not sent twice
-- within ETL_ALERT_THROTTLE).
CREATE TABLE etl_alert (
	id			bigserial PRIMARY KEY,
	rule			text NOT NULL CHECK (rule ~ '^[a-z_]+$'),
	severity		text NOT NULL
	    CHECK (severity IN ('info', 'warning', 'critical')),
	batch_id		text,
	run_type		text,
	message			text NOT NULL,
	figures			jsonb NOT NULL DEFAULT '{}',
	-- pending: being sent; sent; failed: ETL_ALERT_CMD failed (does not
	-- throttle the next); throttled: not sent; logged: no ETL_ALERT_CMD
	delivery		text NOT NULL DEFAULT 'pending' CHECK (delivery IN
	    ('pending', 'sent', 'failed', 'throttled', 'logged')),
	raised_at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX etl_alert_rule ON etl_alert (rule, raised_at DESC);
CREATE INDEX etl_alert_time ON etl_alert (raised_at);

-- The dashboard and etl-ctl status read runs newest first.
CREATE INDEX analytics_etl_log_started ON analytics_etl_log (started_at DESC);
