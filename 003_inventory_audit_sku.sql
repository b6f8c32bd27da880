CREATE INDEX inventory_audit_sku ON inventory_audit (sku, changed_at);
