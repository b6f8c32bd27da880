/*
 * etl-ctl's subcommands, each in its own file (cmd/ctl-*.c).  Each takes
 * its argv with argv[0] the subcommand's name and returns an exit status.
 */
#ifndef CTL_H
#define CTL_H

struct ops_config;
struct pg_conn;

/* cmd/etl-ctl.c: connect, or log why not (*status 69 or 78) */
struct pg_conn *ctl_connect(int *status);
/* The ETL_* thresholds, or log the bad one and return -1. */
int ctl_config(struct ops_config *);

/* cmd/ctl-mapping.c: mapping list|add|confirm|import|export|review */
int ctl_mapping(int argc, char *argv[]);

/* cmd/ctl-runs.c */
int ctl_status(int argc, char *argv[]);
int ctl_health(int argc, char *argv[]);
int ctl_metrics(int argc, char *argv[]);
int ctl_cleanup(int argc, char *argv[]);
int ctl_replay(int argc, char *argv[]);

/* cmd/ctl-dashboard.c */
int ctl_dashboard(int argc, char *argv[]);

#endif
