/*
 * etl-ctl dashboard: one self-contained HTML page of the system's state:
 * status at a glance, performance charts (inline SVG), errors, data.
 * No script, no external resource; a Content-Security-Policy that allows
 * none; every text from the database HTML-escaped.  Queries are bounded
 * (LIMIT, 30-day windows on indexed columns).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ozon-etl.h"
#include "ctl.h"

#define MAX_RUNS	"2000"	/* points in the charts, newest kept */

static struct buf h;		/* the page */
static struct pg_conn *db;

/* Text, HTML-escaped. */
static void
esc(const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': buf_adds(&h, "&amp;"); break;
		case '<': buf_adds(&h, "&lt;"); break;
		case '>': buf_adds(&h, "&gt;"); break;
		case '"': buf_adds(&h, "&quot;"); break;
		case '\'': buf_adds(&h, "&#39;"); break;
		default: buf_addc(&h, *s);
		}
}

static void
out(const char *s)
{
	buf_adds(&h, s);
}

static void
outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
outf(const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	buf_adds(&h, tmp);
}

/* A number with its digits grouped by three, and its raw value. */
static void
num(const char *id, const char *v)
{
	size_t n = strlen(v), i, lead = (v[0] == '-');

	out("<span class=\"num\"");
	if (id)
		outf(" id=\"%s\"", id);
	out(" data-value=\"");
	esc(v);
	out("\">");
	for (i = 0; i < n; i++) {
		if (i > lead && (n - i) % 3 == 0 && v[i] >= '0' && v[i] <= '9' &&
		    strspn(v + lead, "0123456789") == n - lead)
			out("&#8201;");	/* thin space */
		buf_addc(&h, v[i]);
	}
	out("</span>");
}

static PGresult *
query(const char *sql, int n, const char *const *params)
{
	char err[256];
	PGresult *r;

	if ((r = db_query(db, sql, n, params, err, sizeof err)) == NULL)
		log_msg(LOG_WARN, "dashboard: %s", err);
	return r;
}

static const char *
age_text(int64_t s, char *out_, size_t len)
{
	if (s < 0)
		snprintf(out_, len, "never");
	else if (s < 120)
		snprintf(out_, len, "%llds ago", (long long)s);
	else if (s < 7200)
		snprintf(out_, len, "%lldm ago", (long long)s / 60);
	else if (s < 3 * 86400)
		snprintf(out_, len, "%lldh%02lldm ago", (long long)s / 3600,
		    (long long)s % 3600 / 60);
	else
		snprintf(out_, len, "%lld days ago", (long long)s / 86400);
	return out_;
}

static const char *
status_class(const char *status)
{
	if (strcmp(status, "completed") == 0)
		return "ok";
	if (strcmp(status, "partial_success") == 0 ||
	    strcmp(status, "running") == 0)
		return "warn";
	return "crit";
}

/* ---- status at a glance ---- */

static void
run_card(const char *type, const char *title, int64_t sla_s)
{
	const char *params[1] = { type };
	char age[48];
	const char *cls;
	int64_t ok_age;
	PGresult *r;

	r = query("SELECT to_char(l.started_at AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD HH24:MI UTC'), l.status,"
	    " extract(epoch FROM now() - l.started_at)::bigint,"
	    " coalesce(l.error_message, ''),"
	    " (SELECT extract(epoch FROM now() - max(finished_at))::bigint"
	    "  FROM analytics_etl_log WHERE run_type = $1 AND status IN"
	    "  ('completed', 'partial_success'))"
	    " FROM analytics_etl_log l WHERE l.run_type = $1"
	    " ORDER BY l.started_at DESC LIMIT 1", 1, params);
	if (r == NULL || PQntuples(r) == 0) {
		outf("<div class=\"card crit\" id=\"last-%s\"><h3>%s</h3>"
		    "<p class=\"big\">never run</p><p>no %s recorded yet</p>"
		    "</div>\n", type, title, type);
		PQclear(r);
		return;
	}
	ok_age = PQgetisnull(r, 0, 4) ? -1 : atoll(PQgetvalue(r, 0, 4));
	/* stale data is critical; a failure with fresh data a warning */
	cls = ok_age < 0 || ok_age > sla_s ? "crit" :
	    strcmp(status_class(PQgetvalue(r, 0, 1)), "ok") ? "warn" : "ok";
	outf("<div class=\"card %s\" id=\"last-%s\" data-status=\"", cls,
	    type);
	esc(PQgetvalue(r, 0, 1));
	outf("\"><h3>%s</h3><p class=\"big\">", title);
	esc(PQgetvalue(r, 0, 1));
	out("</p><p>started ");
	esc(PQgetvalue(r, 0, 0));
	outf(" (%s)</p>", age_text(atoll(PQgetvalue(r, 0, 2)), age,
	    sizeof age));
	outf("<p>last success %s; SLA %lldh</p>", age_text(ok_age, age,
	    sizeof age), (long long)sla_s / 3600);
	if (*PQgetvalue(r, 0, 3)) {
		out("<p class=\"err\">");
		esc(PQgetvalue(r, 0, 3));
		out("</p>");
	}
	out("</div>\n");
	PQclear(r);
}

static void
glance(const struct ops_config *cfg)
{
	static const char *levels[] = { "healthy", "degraded", "unhealthy" };
	static const char *classes[] = { "ok", "warn", "crit" };
	struct rds rds = { NULL }, *rp = NULL;
	const char *url, *p;
	struct health hc;
	char err[256];
	size_t off;
	PGresult *r;
	int i;

	if ((url = env_str("REDIS_URL", NULL)) != NULL) {
		rp = &rds;
		if (rds_open(&rds, url, 1000, err, sizeof err) == -1)
			rds.c = NULL;
	}
	health_check(&hc, db, "", rp, cfg);
	out("<section id=\"glance\"><h2>Status at a glance</h2>\n"
	    "<div class=\"cards\">\n");
	outf("<div class=\"card %s\" id=\"health\" data-level=\"%s\">"
	    "<h3>Health</h3><p class=\"big\">%s</p>", classes[hc.level],
	    levels[hc.level], levels[hc.level]);
	out("<ul>");
	for (off = 0; off < hc.messages.len; off += strlen(p) + 1) {
		p = hc.messages.p + off;
		out("<li>");
		esc(p);
		out("</li>");
	}
	if (hc.messages.len == 0)
		out("<li>nothing to report</li>");
	out("</ul></div>\n");
	health_free(&hc);
	rds_close(&rds);
	run_card("full_sync", "Last full sync", cfg->fresh_full_s);
	run_card("incremental_sync", "Last incremental sync",
	    cfg->fresh_incr_s);

	r = query("SELECT to_char(raised_at AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD HH24:MI'), severity, rule, message, delivery"
	    " FROM etl_alert WHERE raised_at > now() - interval '24 hours'"
	    " AND delivery <> 'throttled' ORDER BY raised_at DESC LIMIT 50",
	    0, NULL);
	i = r ? PQntuples(r) : 0;
	outf("<div class=\"card %s\" id=\"alerts\"><h3>Alerts, last 24 "
	    "hours</h3><p class=\"big\"><span id=\"alert-count\" "
	    "data-value=\"%d\">%d</span></p></div>\n</div>\n",
	    i ? "warn" : "ok", i, i);
	if (i) {
		out("<table id=\"alert-table\"><tr><th>raised (UTC)</th>"
		    "<th>severity</th><th>rule</th><th>message</th>"
		    "<th>delivery</th></tr>\n");
		for (i = 0; i < PQntuples(r); i++) {
			outf("<tr class=\"%s\">", strcmp(PQgetvalue(r, i, 1),
			    "critical") == 0 ? "crit" : "warn");
			for (int k = 0; k < 5; k++) {
				out("<td>");
				esc(PQgetvalue(r, i, k));
				out("</td>");
			}
			out("</tr>\n");
		}
		out("</table>\n");
	}
	PQclear(r);
	out("</section>\n");
}

/* ---- charts ---- */

struct series {
	const char *name, *color;
	double *v;
};

#define CW	720		/* the plot's width and height */
#define CH	160
#define PADL	56
#define PADB	22

/* A y-axis label: 1234567 as 1.2M. */
static void
short_num(double v, char *s, size_t len)
{
	if (v >= 1e6)
		snprintf(s, len, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(s, len, "%.0fk", v / 1e3);
	else if (v >= 10 || v == floor(v))
		snprintf(s, len, "%.0f", v);
	else
		snprintf(s, len, "%.2f", v);
}

/*
 * A chart of n runs: lines for the series, or, with bars, one bar per run
 * in the color of its status.  x is the run's place, labelled by date.
 */
static void
chart(const char *id, const char *title, const struct series *s, int ns,
    int n, char **when, char **status, int bars)
{
	char lab[32];
	double max = 0, x, y, step;
	int i, k;

	for (k = 0; k < ns; k++)
		for (i = 0; i < n; i++)
			if (s[k].v[i] > max)
				max = s[k].v[i];
	if (max <= 0)
		max = 1;
	/* run i has the slot [PADL + step i, PADL + step (i + 1)) */
	step = (double)(CW - PADL - 8) / n;
	outf("<figure class=\"chart\" id=\"chart-%s\"><figcaption>%s",
	    id, title);
	for (k = 0; k < ns && ns > 1; k++)
		outf(" <span class=\"key\" style=\"color:%s\">&#9632; %s"
		    "</span>", s[k].color, s[k].name);
	outf("</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n",
	    CW, CH + PADB, title);
	/* axes and three y labels */
	for (k = 0; k <= 2; k++) {
		y = 8 + (CH - 16) * (1 - k / 2.0);
		short_num(max * k / 2, lab, sizeof lab);
		outf("<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
		    "y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\" "
		    "text-anchor=\"end\">%s</text>\n", PADL, y, CW - 4, y,
		    PADL - 6, y + 4, lab);
	}
	outf("<text x=\"%d\" y=\"%d\">", PADL, CH + PADB - 4);
	esc(when[0]);
	outf("</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", CW - 4,
	    CH + PADB - 4);
	esc(when[n - 1]);
	out("</text>\n");
	for (k = 0; k < ns; k++) {
		if (bars) {
			double w = step * 0.7 > 1 ? step * 0.7 : 1;

			for (i = 0; i < n; i++) {
				x = PADL + step * (i + 0.5) - w / 2;
				y = 8 + (CH - 16) * (1 - s[k].v[i] / max);
				outf("<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" "
				    "width=\"%.1f\" height=\"%.1f\"><title>",
				    status_class(status[i]), x, y, w,
				    CH - 8 - y);
				esc(when[i]);
				out(" ");
				esc(status[i]);
				outf(": %.1f</title></rect>\n", s[k].v[i]);
			}
			continue;
		}
		outf("<polyline class=\"line\" stroke=\"%s\" points=\"",
		    s[k].color);
		for (i = 0; i < n; i++)
			outf("%.1f,%.1f ", PADL + step * (i + 0.5),
			    8 + (CH - 16) * (1 - s[k].v[i] / max));
		outf("\"><title>%s</title></polyline>\n", s[k].name);
		/* few runs: each a dot, with its figure on hover */
		for (i = 0; n <= 100 && i < n; i++) {
			outf("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
			    "fill=\"%s\"><title>", PADL + step * (i + 0.5),
			    8 + (CH - 16) * (1 - s[k].v[i] / max), s[k].color);
			esc(when[i]);
			outf(" %s: %.6g</title></circle>\n", s[k].name,
			    s[k].v[i]);
		}
	}
	out("</svg></figure>\n");
}

static void
performance(int days)
{
	static const char *const colors[] = { "#2563eb", "#16a34a",
		"#dc2626", "#9333ea" };
	char d[16];
	const char *params[1] = { d };
	struct series s[4];
	double *col[10];
	char **when, **status;
	PGresult *r;
	int n, i, k;

	snprintf(d, sizeof d, "%d", days);
	r = query("SELECT * FROM (SELECT to_char(started_at AT TIME ZONE 'UTC',"
	    " 'MM-DD HH24:MI'), status, coalesce(execution_time_ms, 0) / 1000.0,"
	    " records_extracted, records_inserted + records_updated +"
	    " records_zeroed, records_failed, api_requests_failed,"
	    " api_time_ms / 1000.0, records_inserted, records_updated,"
	    " records_zeroed, api_requests_made, started_at"
	    " FROM analytics_etl_log WHERE started_at > now() -"
	    " $1::int * interval '1 day' AND status <> 'running'"
	    " ORDER BY started_at DESC LIMIT " MAX_RUNS ") r ORDER BY started_at",
	    1, params);
	n = r ? PQntuples(r) : 0;
	outf("<section id=\"performance\"><h2>Performance, last %d days "
	    "<small>(<span id=\"run-count\" data-value=\"%d\">%d</span> "
	    "runs)</small></h2>\n", days, n, n);
	if (n == 0) {
		out("<p class=\"empty\">No finished runs in this period.</p>"
		    "</section>\n");
		PQclear(r);
		return;
	}
	when = xmalloc((size_t)n * sizeof *when);
	status = xmalloc((size_t)n * sizeof *status);
	for (k = 0; k < 10; k++)
		col[k] = xmalloc((size_t)n * sizeof **col);
	for (i = 0; i < n; i++) {
		when[i] = PQgetvalue(r, i, 0);
		status[i] = PQgetvalue(r, i, 1);
		for (k = 0; k < 10; k++)
			col[k][i] = atof(PQgetvalue(r, i, 2 + k));
	}
	s[0] = (struct series){ "seconds", colors[0], col[0] };
	chart("duration", "Run duration, seconds (bars coloured by status)",
	    s, 1, n, when, status, 1);
	s[0] = (struct series){ "extracted", colors[0], col[1] };
	s[1] = (struct series){ "loaded (changed)", colors[1], col[2] };
	chart("rows", "Rows extracted and changed per run", s, 2, n, when,
	    status, 0);
	s[0] = (struct series){ "rejected", colors[2], col[3] };
	s[1] = (struct series){ "API failures", colors[3], col[4] };
	chart("rejects", "Rejected records and failed API requests", s, 2, n,
	    when, status, 0);
	s[0] = (struct series){ "API seconds", colors[0], col[5] };
	chart("api", "Time in the Ozon API per run, seconds", s, 1, n, when,
	    status, 0);
	s[0] = (struct series){ "inserted", colors[1], col[6] };
	s[1] = (struct series){ "updated", colors[0], col[7] };
	s[2] = (struct series){ "zeroed", colors[2], col[8] };
	chart("changes", "Changes per run", s, 3, n, when, status, 0);
	out("</section>\n");
	for (k = 0; k < 10; k++)
		free(col[k]);
	free(when);
	free(status);
	PQclear(r);
}

/* ---- tables ---- */

/*
 * A table from a query: headers, then each row; columns whose header
 * starts with '#' are numbers (the '#' is not shown).  The table gets id.
 */
static void
table(const char *id, const char *sql, int np, const char *const *params,
    const char *const *heads, int ncols, const char *empty)
{
	PGresult *r = query(sql, np, params);
	int i, k;

	if (r == NULL || PQntuples(r) == 0) {
		outf("<p class=\"empty\" id=\"%s\">", id);
		esc(empty);
		out("</p>\n");
		PQclear(r);
		return;
	}
	outf("<table id=\"%s\"><tr>", id);
	for (k = 0; k < ncols; k++) {
		outf("<th%s>", heads[k][0] == '#' ? " class=\"n\"" : "");
		esc(heads[k] + (heads[k][0] == '#'));
		out("</th>");
	}
	out("</tr>\n");
	for (i = 0; i < PQntuples(r); i++) {
		out("<tr>");
		for (k = 0; k < ncols; k++) {
			if (heads[k][0] == '#') {
				out("<td class=\"n\">");
				num(NULL, PQgetvalue(r, i, k));
			} else {
				out("<td>");
				esc(PQgetvalue(r, i, k));
			}
			out("</td>");
		}
		out("</tr>\n");
	}
	out("</table>\n");
	PQclear(r);
}

static void
errors(int days)
{
	static const char *const failed_heads[] = { "started (UTC)", "type",
		"status", "error", "stage exits", "batch" };
	static const char *const reason_heads[] = { "stage", "reason",
		"#count", "#runs" };
	char d[16];
	const char *params[1] = { d };

	snprintf(d, sizeof d, "%d", days);
	out("<section id=\"errors\"><h2>Errors</h2>\n"
	    "<h3>Last failed runs</h3>\n");
	table("failed-runs",
	    "SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
	    " run_type, status, coalesce(error_message, ''),"
	    " coalesce((SELECT string_agg(key || '=' || (value->>'exit'), ' ')"
	    "  FROM jsonb_each(details->'stages')), ''), left(batch_id, 8)"
	    " FROM analytics_etl_log WHERE status IN ('failed', 'cancelled')"
	    " ORDER BY started_at DESC LIMIT 10", 0, NULL, failed_heads, 6,
	    "No failed run.");
	outf("<h3>Top reject reasons, last %d days</h3>\n", days);
	table("reject-reasons",
	    "SELECT e->>'stage', e->>'reason', sum((e->>'count')::bigint),"
	    " count(DISTINCT l.id) FROM analytics_etl_log l,"
	    " jsonb_array_elements(CASE WHEN jsonb_typeof(l.details->"
	    " 'reject_reasons') = 'array' THEN l.details->'reject_reasons'"
	    " ELSE '[]' END) e WHERE l.started_at > now() - $1::int *"
	    " interval '1 day' GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 10",
	    1, params, reason_heads, 4, "No record rejected.");
	out("</section>\n");
}

static void
data(void)
{
	static const char *const cluster_heads[] = { "cluster",
		"#warehouses", "#available", "#reserved", "#promised" };
	static const char *const wh_heads[] = { "warehouse", "cluster",
		"#SKUs", "#available", "#reserved", "#promised" };
	static const char *const review_heads[] = { "name as Ozon sends it",
		"suggested", "#seen", "last seen (UTC)" };
	PGresult *r;
	int i;
	double total, width;

	out("<section id=\"data\"><h2>Data</h2>\n<div class=\"cards\">\n");
	r = query("SELECT count(*), count(DISTINCT sku),"
	    " coalesce(sum(available), 0), coalesce(sum(reserved), 0),"
	    " coalesce(sum(promised_amount), 0),"
	    " (SELECT count(*) FROM (SELECT sku FROM inventory GROUP BY sku"
	    "  HAVING sum(available) = 0) o)"
	    " FROM inventory", 0, NULL);
	if (r && PQntuples(r) == 1) {
		static const char *const ids[] = { "inventory-rows", "skus",
			"available", "reserved", "promised", "skus-out" };
		static const char *const titles[] = { "Inventory rows", "SKUs",
			"Available", "Reserved", "Promised",
			"SKUs out of stock everywhere" };

		for (i = 0; i < 6; i++) {
			outf("<div class=\"card\"><h3>%s</h3><p class=\"big\">",
			    titles[i]);
			num(ids[i], PQgetvalue(r, 0, i));
			out("</p></div>\n");
		}
	}
	PQclear(r);
	out("</div>\n<h3>Stock by cluster</h3>\n");
	table("by-cluster",
	    "SELECT coalesce(cluster_name, '(unknown cluster)'),"
	    " count(DISTINCT warehouse_name), sum(available), sum(reserved),"
	    " sum(promised_amount) FROM inventory GROUP BY cluster_name"
	    " ORDER BY 3 DESC, 1 LIMIT 100", 0, NULL, cluster_heads, 5,
	    "No stock loaded yet.");
	out("<h3>Stock by warehouse (the 30 largest)</h3>\n");
	table("by-warehouse",
	    "SELECT warehouse_name, coalesce(min(cluster_name), ''),"
	    " count(DISTINCT sku), sum(available), sum(reserved),"
	    " sum(promised_amount) FROM inventory GROUP BY warehouse_name"
	    " ORDER BY 4 DESC, 1 LIMIT 30", 0, NULL, wh_heads, 6,
	    "No stock loaded yet.");

	out("<h3>Data quality score</h3>\n");
	r = query("SELECT b, count(*) FROM (SELECT CASE"
	    " WHEN data_quality_score IS NULL THEN 'unscored'"
	    " WHEN data_quality_score = 100 THEN '100'"
	    " WHEN data_quality_score >= 90 THEN '90-99'"
	    " WHEN data_quality_score >= 70 THEN '70-89'"
	    " WHEN data_quality_score >= 50 THEN '50-69'"
	    " ELSE '0-49' END AS b FROM inventory) q GROUP BY b"
	    " ORDER BY array_position(ARRAY['100', '90-99', '70-89', '50-69',"
	    " '0-49', 'unscored'], b)", 0, NULL);
	if (r && PQntuples(r) > 0) {
		total = 0;
		for (i = 0; i < PQntuples(r); i++)
			total += atof(PQgetvalue(r, i, 1));
		out("<table id=\"quality\"><tr><th>score</th><th class=\"n\">"
		    "rows</th><th>share</th></tr>\n");
		for (i = 0; i < PQntuples(r); i++) {
			width = 100 * atof(PQgetvalue(r, i, 1)) / total;
			out("<tr><td>");
			esc(PQgetvalue(r, i, 0));
			out("</td><td class=\"n\">");
			num(NULL, PQgetvalue(r, i, 1));
			outf("</td><td><span class=\"bar\" style=\"width:%.1f%%"
			    "\"></span> %.1f%%</td></tr>\n", width, width);
		}
		out("</table>\n");
	} else
		out("<p class=\"empty\" id=\"quality\">No stock loaded yet.</p>\n");
	PQclear(r);

	out("<h3>Warehouse names awaiting review "
	    "<small>(etl-ctl mapping review)</small></h3>\n");
	table("review",
	    "SELECT original_name, normalized_name, seen_count,"
	    " coalesce(to_char(last_seen_at AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD HH24:MI'), '') FROM warehouse_normalization"
	    " WHERE source_type = 'auto_detected' AND is_active"
	    " ORDER BY seen_count DESC, original_name LIMIT 50", 0, NULL,
	    review_heads, 4, "Nothing to review.");
	out("</section>\n");
}

static const char style[] =
"body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;"
"padding:0 16px 40px;color:#1f2937;background:#f9fafb}"
"h1{margin:16px 0 0}h2{border-bottom:1px solid #d1d5db;padding-top:12px}"
".gen{color:#6b7280;margin:0}"
".cards{display:flex;flex-wrap:wrap;gap:12px}"
".card{background:#fff;border:1px solid #d1d5db;border-left:6px solid #9ca3af;"
"border-radius:6px;padding:8px 12px;min-width:200px;flex:1}"
".card h3{margin:0;font-size:13px;color:#4b5563}"
".card.ok{border-left-color:#16a34a}.card.warn{border-left-color:#d97706}"
".card.crit{border-left-color:#dc2626}"
".big{font-size:22px;font-weight:600;margin:4px 0}"
".err{color:#b91c1c;word-break:break-word}"
"table{border-collapse:collapse;background:#fff;margin:8px 0;width:100%}"
"th,td{border:1px solid #e5e7eb;padding:3px 8px;text-align:left;"
"vertical-align:top;word-break:break-word}"
"th{background:#f3f4f6;white-space:nowrap}"
".n{text-align:right;white-space:nowrap}"
"tr.crit td:nth-child(2){color:#b91c1c}tr.warn td:nth-child(2){color:#b45309}"
".chart{background:#fff;border:1px solid #d1d5db;border-radius:6px;"
"margin:12px 0;padding:8px}"
".chart figcaption{font-weight:600;margin-bottom:4px}.key{font-weight:400;"
"margin-left:8px}"
"svg{width:100%;height:auto;font-size:11px;fill:#4b5563}"
"svg .grid{stroke:#e5e7eb}svg .line{fill:none;stroke-width:1.5}"
"svg rect.ok{fill:#16a34a}svg rect.warn{fill:#d97706}"
"svg rect.crit{fill:#dc2626}"
".bar{display:inline-block;height:10px;background:#2563eb;"
"vertical-align:middle}"
".empty{color:#6b7280;font-style:italic}"
"#alert-table td:nth-child(-n+3),#failed-runs td:nth-child(-n+3),"
"#failed-runs td:nth-child(6){white-space:nowrap}";

static void
page(const struct ops_config *cfg, int days, int refresh)
{
	char host[256] = "", when[64];
	time_t now = time(NULL);
	struct tm tm;

	gethostname(host, sizeof host - 1);
	gmtime_r(&now, &tm);
	if (strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		when[0] = '\0';
	out("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	    "'none'; style-src 'unsafe-inline'\">\n");
	outf("<meta http-equiv=\"refresh\" content=\"%d\">\n", refresh);
	out("<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>ozon-etl: ");
	esc(host);
	out("</title>\n<style>");
	out(style);
	out("</style></head><body>\n<header><h1>ozon-etl</h1><p class=\"gen\">"
	    "Generated <span id=\"generated\">");
	esc(when);
	out("</span> on ");
	esc(host);
	outf(" by etl-ctl dashboard; refreshes every %d minutes.</p>"
	    "</header>\n", refresh / 60);
	glance(cfg);
	performance(days);
	errors(days);
	data();
	out("</body></html>\n");
}

int
ctl_dashboard(int argc, char *argv[])
{
	static const struct option longs[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "refresh", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	static const char line[] = "dashboard [-o FILE] [--days N] "
	    "[--refresh SECONDS]";
	struct ops_config cfg;
	const char *path = NULL;
	char err[512];
	int64_t days = 30, refresh = 300;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "o:", longs, NULL)) != -1)
		if (c == 'o')
			path = optarg;
		else if (c == 'd' || c == 'r') {
			if (parse_count(optarg, c == 'd' ? 1 : 10, c == 'd' ?
			    366 : 86400, c == 'd' ? &days : &refresh, err,
			    sizeof err) == -1) {
				fprintf(stderr, "etl-ctl: dashboard: %s\n", err);
				fprintf(stderr, "usage: etl-ctl %s\n", line);
				return EX_USAGE;
			}
		} else {
			fprintf(stderr, "usage: etl-ctl %s\n", line);
			return EX_USAGE;
		}
	if (optind != argc) {
		fprintf(stderr, "usage: etl-ctl %s\n", line);
		return EX_USAGE;
	}
	if (ctl_config(&cfg) == -1)
		return EX_CONFIG;
	if ((db = ctl_connect(&status)) == NULL)
		return status;
	page(&cfg, (int)days, (int)refresh);
	db_close(db);
	if (path) {
		/* served by any web server: no secret in it, 0644 */
		if (write_atomic(path, h.p, h.len, 0644, err, sizeof err) == -1) {
			log_msg(LOG_ERROR, "%s", err);
			status = EX_CANTCREAT;
		}
	} else
		(void)fwrite(h.p, 1, h.len, stdout);	/* checked at exit */
	buf_free(&h);
	return status;
}
