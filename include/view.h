/* SPDX-License-Identifier: GPL-2.0 */
/*
 * view.h - everything that turns a model snapshot into something to look at.
 *
 *   src/view_state.c   the view state: initial values, sort key names,
 *                      the selection kept on its device across snapshots
 *   src/view_keys.c    the key table: actions change struct view_state and
 *                      return VIEW_R_* reaction flags; they never draw
 *   src/view_format.c  layout and cell formatting shared by both views
 *   src/view_batch.c   plain text every interval, like top -b
 *   src/view_curses.c  the ncurses screen
 *   src/view_run.c     the loop both live mode and replay drive: it cuts the
 *                      record stream into intervals, snapshots the model at
 *                      each boundary and hands the snapshot to a view; and
 *                      the session setup they share (view_run_open())
 *   src/view_args.c    the options of the views (an argp child)
 *
 * Nothing here reads a source or touches the model's internals, and the
 * render path neither allocates nor does I/O other than curses output, so
 * the logic above the screen is testable without a terminal
 * (tests/test_view*.c).
 */
#ifndef IOVATOP_VIEW_H
#define IOVATOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "source.h"
#include "view_note.h"

struct forecast_session;

#define VIEW_FILTER_LEN		64

enum view_mode {
	VIEW_LIST = 0,		/* the device table */
	VIEW_DETAIL,		/* the table and the selected device's detail */
	VIEW_HELP,		/* every key and what it does */
	VIEW_FILTER,		/* typing a filter; the table stays visible */
	VIEW_INTERVAL,		/* typing a new interval ('d', as in top) */
	VIEW_NMODES,
};

/* Reaction flags: what a key asks its caller to do. */
#define VIEW_R_DRAW	(1u << 0)	/* draw the same snapshot again */
#define VIEW_R_RESORT	(1u << 1)	/* sort or filter changed: re-snapshot */
#define VIEW_R_CLEAR	(1u << 2)	/* repaint every cell (Ctrl-L, resize) */
#define VIEW_R_QUIT	(1u << 3)
#define VIEW_R_PAUSE	(1u << 4)	/* paused changed */
#define VIEW_R_STEP	(1u << 5)	/* replay: advance one interval */
#define VIEW_R_SPEED	(1u << 6)	/* replay: speed changed */
#define VIEW_R_UNBOUND	(1u << 7)	/* no action for this key here */
#define VIEW_R_INTERVAL	(1u << 8)	/* interval_s changed */

struct view_state {
	enum view_mode mode;
	enum view_mode back;		/* where help and filter return to */
	enum model_sort sort;
	bool reverse;
	bool paused;
	bool replay;			/* step and speed keys are bound */
	double speed;			/* replay: trace seconds per wall second */
	char filter[VIEW_FILTER_LEN];
	char filter_old[VIEW_FILTER_LEN];	/* Esc in filter mode restores it */
	int selected;			/* row index, -1 when there are no rows */
	int top;			/* first row on screen */
	int nrows;			/* rows in the last synced snapshot */
	int page;			/* rows the table area holds */
	char sel_name[MODEL_NAME_LEN];	/* selection follows the device */
	int hscroll;			/* Right/Left: table columns scrolled off */
	bool cumulative;		/* 'c': totals since the start, not the interval */
	bool group;			/* 'g': rows grouped by process, with its total */
	double interval_s;		/* the loop's; 'd' asks for a new one */
	char entry[16];			/* the new interval being typed */
};

/* Intervals the command line and 'd' accept, in seconds. */
#define VIEW_INTERVAL_MIN	0.01
#define VIEW_INTERVAL_MAX	86400.0

void view_state_init(struct view_state *s);

/* Replay speeds --speed and the + and - keys allow. */
#define VIEW_SPEED_MIN		(1.0 / 64)
#define VIEW_SPEED_MAX		4096.0

/*
 * Dispatch one key (a character, or a curses KEY_* code) through the key
 * table for the current mode. Returns VIEW_R_* flags.
 */
unsigned int view_key(struct view_state *s, int key);

/*
 * After a new snapshot: find the selected device again by name, clamp the
 * selection to the rows there are and scroll so that it is on screen.
 */
void view_state_sync(struct view_state *s, const struct model_snapshot *snap);

/*
 * The keys of a mode, "q quit  j/k select ...", for the footer: whole
 * entries that fit width (-1: all), "? help" always among them.
 */
size_t view_footer(const struct view_state *s, char *buf, size_t len,
		   int width);

/* Help lines, one per bound key; returns NULL past the last one. */
const char *view_help_line(const struct view_state *s, unsigned int i,
			   char *buf, size_t len);

/* Sort key names, as on the command line and in the column titles. */
const char *view_sort_name(enum model_sort sort);
int view_sort_parse(const char *name, enum model_sort *out);

/* Columns of the device table, left to right. */
enum view_col {
	VIEW_COL_MARK = 0,	/* '*' on the hottest device */
	VIEW_COL_DEVICE,	/* its name says the path: "vfio ...", "iommufd ..." */
	VIEW_COL_PID,
	VIEW_COL_COMM,
	VIEW_COL_REPS,
	VIEW_COL_PAGES,
	VIEW_COL_RATE,
	VIEW_COL_PCT,
	VIEW_COL_TREND,
	VIEW_COL_HOT,
	VIEW_NCOLS,
};

#define VIEW_MIN_COLS		20
#define VIEW_MIN_LINES		4	/* a header line, titles, a row, the footer */
#define VIEW_HEADER_LINES	3	/* fewer on a short terminal */
#define VIEW_DETAIL_LINES	6
#define VIEW_NAME_MIN		10

struct view_layout {
	bool too_small;		/* below VIEW_MIN_COLS x VIEW_MIN_LINES */
	int lines, cols;
	int header_y;		/* summary lines */
	int header_h;		/* 1 .. VIEW_HEADER_LINES */
	int title_y;		/* column titles */
	int rows_y;		/* first device row */
	int rows_h;		/* device rows that fit */
	int detail_y;		/* detail panel, detail_h == 0 when none */
	int detail_h;
	int footer_y;
	unsigned int colmask;	/* 1u << VIEW_COL_* that fit */
	int width[VIEW_NCOLS];	/* of each column shown */
	int skip;		/* columns scrolled off left (hscroll, clamped) */
	int max_skip;		/* Right stops here: the last column is shown */
	bool more_right;	/* a column that did not fit lies to the right */
	bool totals;		/* the cells hold totals since the start */
};

/*
 * How wide the snapshot's cells are: the variable columns (device name,
 * pid, comm, hot region) take the width of their longest cell, in limits.
 */
struct view_fit {
	int name, pid, comm, hot;
	bool totals;		/* cumulative: REPORTS, DIRTY MiB, means */
};

void view_fit_of(const struct model_snapshot *snap, const struct view_state *s,
		 struct view_fit *fit);

/*
 * Fit the screen: lines x cols, the mode, the widths the cells want (NULL:
 * the narrowest) and how many table columns the user scrolled off to the
 * left (Right/Left; the mark and the device never scroll). Unscrolled,
 * columns that do not fit are dropped in an order a user would choose
 * (hot region, %dirty, pages, reports, comm, pid, trend), after long
 * names are cut to a middle ellipsis; scrolled, the columns right of the
 * skipped ones are shown while they fit.
 */
void view_layout(struct view_layout *l, int lines, int cols,
		 enum view_mode mode, const struct view_fit *fit, int skip);
/*
 * One more header line (the forecast, the note) taken from the table,
 * while the table keeps a row.
 */
void view_layout_add_header(struct view_layout *l);
/*
 * Header lines past VIEW_HEADER_LINES: the forecast's when there is one
 * (VIEW_HEADER_FORECAST), then the note's. view_header_extra() says how
 * many meta asks for.
 */
#define VIEW_HEADER_FORECAST	VIEW_HEADER_LINES
struct view_meta;
int view_header_extra(const struct view_meta *meta);

/* Longest row name of a snapshot. */
int view_name_max(const struct model_snapshot *snap);

/*
 * Text cut to width columns with one ellipsis in the middle, keeping more
 * of the end (a BDF's function, a UUID's last group): "vfio 83b8~e0fa1001".
 * The ellipsis is U+2026 after view_format_utf8(true) (the curses view on
 * a UTF-8 terminal), '~' otherwise.
 */
size_t view_fmt_middle(char *buf, size_t len, const char *text, int width);
void view_format_utf8(bool on);

/*
 * The hottest device: the row that dirtied the most bytes in the period
 * shown (the interval; with totals, since the start), above zero; or -1.
 * report ranks by the same measure over the whole trace.
 */
int view_hottest(const struct model_snapshot *snap, bool totals);

/* What the header shows besides the snapshot itself. */
struct view_meta {
	const char *source;	/* "live", or the trace file's name */
	const char *kernel;	/* release of the traced kernel */
	const char *probe;	/* "fentry", "kprobe" */
	const char *layout;	/* iova_bitmap layout name */
	uint64_t t0_ns;		/* the time shown as +0.000s */
	int64_t wall_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, 0: unknown */
	bool live;
	bool trace_incomplete;	/* the file was cut short */
	bool at_end;		/* replay: no records left */
	bool paced;		/* replay on a clock: the speed means something */
	const char *forecast;	/* the forecast's line, NULL: none asked */
	const char *note;	/* --note-file's line, NULL or "": none */
	/* each VM's forecast, for the outputs that print them all (JSON) */
	const struct forecast_session *forecasts;
	/* live: the ring buffer's fill at the snapshot; NULL: no ring */
	const struct ring_fill *ring;
};

const char *view_trend_name(uint32_t trend);
const char *view_path_name(uint32_t path);
const char *view_layout_name(uint32_t layout);	/* IOVA_LAYOUT_* */

/*
 * Text of header line i (0 .. VIEW_HEADER_LINES - 1), the column titles and
 * one row, each fitted to the layout's width and NUL-terminated; each
 * returns the string length. The batch view and the curses view both print
 * these, so the numbers they show cannot differ.
 */
size_t view_format_header(char *buf, size_t len, int line,
			  const struct view_meta *meta,
			  const struct view_state *s,
			  const struct model_snapshot *snap, int width);
size_t view_format_titles(char *buf, size_t len, const struct view_layout *l,
			  const struct view_state *s);
size_t view_format_row(char *buf, size_t len, const struct view_layout *l,
		       const struct model_row *r, bool hottest);
/*
 * Grouped by process ('g'): does row idx start a group on a screen whose
 * first row is top, and the group's total line (its devices' reports and
 * dirty rates summed, under the same columns).
 */
bool view_group_starts(const struct model_snapshot *snap, int idx, int top);
size_t view_format_group(char *buf, size_t len, const struct view_layout *l,
			 const struct model_snapshot *snap, int idx);
/* The column a sort key orders by. */
enum view_col view_sort_col(enum model_sort sort);
/* Start column and width of a column in a formatted line; -1 if hidden. */
int view_col_x(const struct view_layout *l, enum view_col c, int *width);

/* Human-readable sizes and regions: "16 MiB", "0x100000000+16M". */
size_t view_fmt_bytes(char *buf, size_t len, uint64_t bytes);
size_t view_fmt_region(char *buf, size_t len, uint64_t iova, uint64_t length);

/*
 * Scale a series onto width cells of 0 .. nlevels - 1: the heatmap (each
 * cell takes the busiest of the buckets it covers, so a narrow hot spot is
 * never averaged away) and the sparkline (the last width values, one per
 * cell). The top level is reserved for the maximum.
 */
void view_heat_levels(const uint32_t *heat, int nbuckets, int width,
		      uint8_t *out, int nlevels);
int view_spark_levels(const uint64_t *hist, int n, int width, uint8_t *out,
		      int nlevels);	/* returns the cells used */

/*
 * Detail panel line i of the selected row, for width columns. Lines 1 and
 * 3 are the heatmap and the sparkline: a label of VIEW_DETAIL_LABEL_W
 * columns, then the cells between two '|', the heat cells drawn with
 * VIEW_HEAT_LEVELS characters.
 */
#define VIEW_DETAIL_LABEL_W	6
#define VIEW_HEAT_LEVELS	10
size_t view_format_detail(char *buf, size_t len, int line,
			  const struct model_row *r, int width);

/* Batch view: one block of text per snapshot. */
void view_batch_print(FILE *f, const struct view_meta *meta,
		      const struct view_state *s,
		      const struct model_snapshot *snap);

/* What -b writes: text blocks, JSON lines or CSV (docs/batch-json.md). */
enum view_format {
	VIEW_FMT_TEXT = 0,
	VIEW_FMT_JSON,
	VIEW_FMT_CSV,
};
/* JSON lines: an "interval" object, then a "device" object per row. */
void view_json_print(FILE *f, const struct view_meta *meta,
		     const struct view_state *s,
		     const struct model_snapshot *snap);
/* CSV: one line per row; titles first when asked. */
void view_csv_print(FILE *f, const struct view_meta *meta,
		    const struct model_snapshot *snap, bool titles);
/* A snapshot's wall-clock time, ISO 8601 UTC with ms; "" when unknown. */
size_t view_wall_time(char *buf, size_t len, const struct view_meta *meta,
		      uint64_t now_ns);

/* ncurses view. */
struct view_curses;

/*
 * Take over the terminal (or, for tests and the bench, a stream pair with
 * a terminal type). Returns NULL with a sentence in err.
 */
struct view_curses *view_curses_open(FILE *out, FILE *in, const char *term,
				     char *err, size_t errlen);
/* Leave curses and print the messages queued meanwhile. NULL is fine. */
void view_curses_close(struct view_curses *vc);
void view_curses_draw(struct view_curses *vc, struct view_state *s,
		      const struct view_meta *meta,
		      const struct model_snapshot *snap, bool clear);
/* Next key, or -1 when none is waiting. */
int view_curses_key(struct view_curses *vc);
/* The file descriptor to poll() for keys. */
int view_curses_fd(const struct view_curses *vc);

/*
 * Messages for the user: straight to stderr, or, while curses owns the
 * screen, queued (a fixed buffer; what does not fit is counted) and
 * printed after endwin().
 */
void view_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct trace_meta;
struct view_args;
struct forecast_session;

/*
 * The loop shared by live mode and replay. Records go in through
 * view_run_record() (an iova_sink_fn); time goes in through
 * view_run_clock(). Interval boundaries are multiples of the interval in
 * the records' own clock (CLOCK_MONOTONIC), so a replay of a trace cuts it
 * at the same instants as the live view that watched it being recorded.
 */
struct view_run {
	struct model *model;
	struct view_state st;
	struct view_meta meta;
	FILE *batch;			/* batch view output, or NULL */
	enum view_format batch_fmt;	/* what goes to it */
	struct view_curses *vc;		/* curses view, or NULL */
	uint64_t interval_ns;
	long count;			/* stop after this many intervals, 0: never */
	long shown;			/* intervals emitted */
	uint64_t next_tick_ns;		/* 0 until the first boundary is set */
	uint64_t last_tick_ns;
	uint64_t pending;		/* records applied since the last boundary */
	bool have_snap;
	bool done;			/* count reached or quit */
	int batch_errno;		/* writing the batch view failed */
	struct model_snapshot snap;
	/*
	 * Every snapshot also goes here (the metrics endpoint), NULL for
	 * none: what a view shows, an exporter sees, -f filter included.
	 */
	void (*snap_fn)(void *ctx, const struct model_snapshot *snap);
	void *snap_ctx;
	/*
	 * The live source's ring buffer, taken at each snapshot before the
	 * outputs see it (meta.ring then points at ring); NULL in replay.
	 */
	void (*ring_fn)(void *ctx, struct ring_fill *f);
	void *ring_ctx;
	struct ring_fill ring;
	/* --link-rate, --qmp ...: updated with each snapshot, or NULL */
	struct forecast_session *forecast;
	const char *note_file;		/* --note-file, read at each snapshot */
	char note[VIEW_NOTE_LEN];	/* its line */
};

void view_run_init(struct view_run *r, struct model *m, uint64_t interval_ns,
		   long count);
/*
 * The setup live mode and replay share: a model for tm's decode rule, the
 * loop with the options applied, what the header shows of tm (source
 * names the trace file, or "live"), and the signals (catch_signals()).
 * 0, or -1 after a sentence on stderr; view_run_close() either way.
 */
int view_run_open(struct view_run *r, const struct view_args *a,
		  const struct trace_meta *tm, const char *source);
/* The batch view or the curses one, as the options say; 0 or -1 as above. */
int view_run_show(struct view_run *r, const struct view_args *a);
/*
 * Whether all of the batch view reached its file: false after one
 * sentence on stderr (a full disk, a closed pipe, /dev/full). The loop
 * stops at the first interval that could not be written.
 */
bool view_run_output_ok(struct view_run *r);
/* Leave curses (then queued messages print) and free the model. */
void view_run_close(struct view_run *r);
/* start_ns: the instant the interval grid starts from (first record or now). */
void view_run_start(struct view_run *r, uint64_t start_ns);
int view_run_record(void *ctx, const struct iova_rec_hdr *rec);
/* Emit every boundary at or before now_ns. Returns intervals emitted. */
int view_run_clock(struct view_run *r, uint64_t now_ns);
/* The boundary after the last record: end of a trace. */
void view_run_finish(struct view_run *r);
/*
 * Read and act on waiting keys; returns the VIEW_R_* flags seen, redraws
 * as they ask. It stops after a key the caller must act on (quit, pause,
 * step, speed), leaving the rest for the next call.
 */
unsigned int view_run_keys(struct view_run *r);
/* Draw (curses) the current snapshot again. */
void view_run_redraw(struct view_run *r, bool clear);

/*
 * Options live mode and replay share (src/view_args.c): -b, -s, -r, -f and
 * the positional [INTERVAL [COUNT]], after FILE for replay.
 */
struct view_args {
	bool batch;
	enum view_format format;	/* --format; json and csv imply -b */
	bool want_file;			/* replay: the first argument is the trace */
	const char *file;
	uint64_t interval_ns;
	long count;
	enum model_sort sort;
	bool reverse;
	const char *filter;
	uint32_t pid;			/* -p: the filter term pid= */
	const char *comm;		/* --comm: the filter term comm= */
	bool cumulative;		/* --cumulative, the key c */
	bool group;			/* --group, the key g */
	const char *note_file;		/* --note-file: a line under the header */
	uint64_t max_bitmap;		/* --max-bitmap, 0 the model's default */
	char filter_buf[VIEW_FILTER_LEN + 48];	/* -f, -p and --comm together */
	int nargs;
};

void view_args_init(struct view_args *a, bool want_file);
/*
 * The argp child that parses them: a command lists it in its argp's
 * children and, at ARGP_KEY_INIT, passes its struct view_args as
 * state->child_inputs[0].
 */
extern const struct argp view_args_argp;
/* Batch when asked, or when stdout is not a terminal. */
bool view_args_batch(const struct view_args *a);
void view_args_apply(const struct view_args *a, struct view_state *s);

#endif /* IOVATOP_VIEW_H */
