-- ozon-etl schema: stock, its audit trail, the run log, warehouse mappings.
-- Applied by etl-ctl migrate in one transaction; recorded in schema_migrations.

-- Stock of one SKU in one warehouse, from one source.  warehouse_name is
-- the canonical name (etl-normalize's normalized_warehouse_name): the
-- spellings Ozon uses for one warehouse share one row.
CREATE TABLE inventory (
	id			bigserial PRIMARY KEY,
	sku			bigint NOT NULL CHECK (sku > 0),
	warehouse_name		text NOT NULL
	    CHECK (warehouse_name <> '' AND length(warehouse_name) <= 255),
	original_warehouse_name	text,
	normalized_warehouse_name text,
	cluster_name		text,
	warehouse_code		text,
	product_code		text,
	product_name		text,
	available		integer NOT NULL DEFAULT 0 CHECK (available >= 0),
	reserved		integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
	promised_amount		integer NOT NULL DEFAULT 0
	    CHECK (promised_amount >= 0),
	data_quality_score	smallint
	    CHECK (data_quality_score BETWEEN 0 AND 100),
	quality_flags		text[] NOT NULL DEFAULT '{}',
	data_source		text NOT NULL DEFAULT 'api'
	    CHECK (data_source IN ('api', 'manual', 'import')),
	batch_id		text,		-- the run that last changed it
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT inventory_key UNIQUE (sku, warehouse_name, data_source)
);
CREATE INDEX inventory_warehouse ON inventory (warehouse_name);
CREATE INDEX inventory_cluster ON inventory (cluster_name);
CREATE INDEX inventory_updated ON inventory (updated_at);
CREATE INDEX inventory_out_of_stock ON inventory (warehouse_name)
    WHERE available = 0;

-- One row per change of an inventory row, written in the transaction of
-- the change.
CREATE TABLE inventory_audit (
	id			bigserial PRIMARY KEY,
	inventory_id		bigint NOT NULL
	    REFERENCES inventory (id) ON DELETE RESTRICT,	-- keep the trail
	sku			bigint NOT NULL,
	warehouse_name		text NOT NULL,
	change_type		text NOT NULL
	    CHECK (change_type IN ('insert', 'update', 'zero', 'manual')),
	change_source		text NOT NULL DEFAULT 'api_sync'
	    CHECK (change_source IN ('api_sync', 'replay', 'manual')),
	old_available		integer,
	new_available		integer,
	old_reserved		integer,
	new_reserved		integer,
	old_promised_amount	integer,
	new_promised_amount	integer,
	old_values		jsonb,
	new_values		jsonb NOT NULL,
	batch_id		text,
	initiated_by		text NOT NULL DEFAULT current_user,
	changed_at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_audit_row ON inventory_audit (inventory_id, changed_at);
CREATE INDEX inventory_audit_batch ON inventory_audit (batch_id);
CREATE INDEX inventory_audit_time ON inventory_audit (changed_at);

-- One row per run of a pipeline.
CREATE TABLE analytics_etl_log (
	id			bigserial PRIMARY KEY,
	batch_id		text NOT NULL UNIQUE,
	run_type		text NOT NULL CHECK (run_type IN
	    ('full_sync', 'incremental_sync', 'manual_sync', 'replay')),
	status			text NOT NULL DEFAULT 'running' CHECK (status IN
	    ('running', 'completed', 'failed', 'partial_success',
	     'cancelled')),
	started_at		timestamptz NOT NULL DEFAULT now(),
	finished_at		timestamptz,
	records_extracted	integer NOT NULL DEFAULT 0
	    CHECK (records_extracted >= 0),
	records_validated	integer NOT NULL DEFAULT 0
	    CHECK (records_validated >= 0),
	records_normalized	integer NOT NULL DEFAULT 0
	    CHECK (records_normalized >= 0),
	records_inserted	integer NOT NULL DEFAULT 0
	    CHECK (records_inserted >= 0),
	records_updated		integer NOT NULL DEFAULT 0
	    CHECK (records_updated >= 0),
	records_zeroed		integer NOT NULL DEFAULT 0
	    CHECK (records_zeroed >= 0),
	records_failed		integer NOT NULL DEFAULT 0
	    CHECK (records_failed >= 0),
	api_requests_made	integer NOT NULL DEFAULT 0
	    CHECK (api_requests_made >= 0),
	api_requests_failed	integer NOT NULL DEFAULT 0
	    CHECK (api_requests_failed >= 0),
	api_time_ms		bigint NOT NULL DEFAULT 0 CHECK (api_time_ms >= 0),
	execution_time_ms	bigint CHECK (execution_time_ms >= 0),
	peak_memory_kb		bigint CHECK (peak_memory_kb >= 0),
	error_message		text,
	details			jsonb,
	CHECK (finished_at IS NULL OR finished_at >= started_at),
	CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX analytics_etl_log_status ON analytics_etl_log (status, started_at DESC);
CREATE INDEX analytics_etl_log_type ON analytics_etl_log (run_type, started_at DESC);

-- Which spelling is which warehouse: seeded from the project's mapping,
-- added to by operators, and by etl-load for names nobody mapped yet
-- (auto_detected, for review).
CREATE TABLE warehouse_normalization (
	id			bigserial PRIMARY KEY,
	original_name		text NOT NULL CHECK (original_name <> ''),
	normalized_name		text NOT NULL CHECK (normalized_name <> ''),
	cluster_name		text,
	warehouse_code		text,
	source_type		text NOT NULL CHECK (source_type IN
	    ('seed', 'manual', 'auto_detected')),
	confidence		numeric(3, 2) NOT NULL DEFAULT 1.0
	    CHECK (confidence BETWEEN 0 AND 1),
	is_active		boolean NOT NULL DEFAULT true,
	seen_count		bigint NOT NULL DEFAULT 0 CHECK (seen_count >= 0),
	first_seen_at		timestamptz,
	last_seen_at		timestamptz,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	UNIQUE (original_name, source_type)
);
CREATE INDEX warehouse_normalization_review ON warehouse_normalization
    (last_seen_at DESC) WHERE source_type = 'auto_detected' AND is_active;
CREATE INDEX warehouse_normalization_active ON warehouse_normalization
    (original_name) WHERE is_active;
