/* commands: the subcommand table, from which parsing and --help are made. */
#include "cmd.h"

#define O_KEY                                                                                      \
	{                                                                                          \
		"key", "KEY", "idempotency key (default: a new one; reuse it to retry safely)",    \
		        "key"                                                                      \
	}
#define O_VERSION                                                                                  \
	{                                                                                          \
		"version", "N", "the ticket version you saw (default: read it first)", NULL        \
	}
#define O_END                                                                                      \
	{                                                                                          \
		NULL, NULL, NULL, NULL                                                             \
	}

/* The FLAG column of list and overdue (cmd_list.c), which colour alone would lose in a pipe. */
#define LIST_LEGEND                                                                                \
	"FLAG: ! urgent (紧急), ⏰ overdue (超时: the current step's deadline has passed)."

static const struct args_opt o_none[] = { O_END };

static const struct args_opt o_report[] = {
	{ "category", "CODE", "category code (pollution.noise) or id", "category" },
	{ "grid", "CODE", "grid code (jg-yanan-01) or id", "grid" },
	{ "description", "TEXT", "what is wrong", "description" },
	{ "address", "TEXT", "where, in words", "address" },
	{ "lat", "DEG", "latitude (with --lon)", "lat" },
	{ "lon", "DEG", "longitude (with --lat)", "lon" },
	{ "urgent", NULL, "urgent: deadlines count elapsed time (default: the category's)",
	  "urgent" },
	{ "photo", "FILE", "a JPEG or PNG to attach (repeat for more)", "photos" },
	O_KEY,
	O_END,
};

static const struct args_opt o_dispatch[] = {
	{ "to", "DEPT", "department code (sthj) or id (default: the routed one)", "department" },
	{ "note", "TEXT", "a note for the department", "note" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_plain[] = { O_VERSION, O_KEY, O_END };

static const struct args_opt o_reason[] = {
	{ "reason", "TEXT", "why", "reason" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_return[] = {
	{ "reason", "TEXT", "why", "reason" },
	{ "department", "DEPT", "the department you believe responsible: code (cgj) or id",
	  "department" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_resolve[] = {
	{ "note", "TEXT", "what was done", "note" },
	{ "photo", "FILE", "a JPEG or PNG of the result (repeat for more)", "photos" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_confirm[] = {
	{ "rating", "N", "satisfaction, 1 (bad) to 5 (very good)", "rating" },
	{ "comment", "TEXT", "feedback", "comment" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_cancel[] = {
	{ "reason", "TEXT", "why (not needed with --duplicate-of)", "reason" },
	{ "duplicate-of", "ID", "the ticket this one duplicates", "duplicate_of" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_note[] = {
	{ "note", "TEXT", "a note", "note" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_extend[] = {
	{ "until", "TIME", "ask for this resolve deadline (department)", "until" },
	{ "reason", "TEXT", "why more time is needed (department)", "reason" },
	{ "grant", NULL, "grant the pending request (street, supervisor)", NULL },
	{ "deny", NULL, "deny the pending request (street, supervisor)", NULL },
	{ "note", "TEXT", "a note with --grant or --deny", "note" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_comment[] = { O_VERSION, O_KEY, O_END };

static const struct args_opt o_arbitrate[] = {
	{ "return-seq", "N", "the return event's seq (streetctl show ID)", "return_seq" },
	{ "upheld", NULL, "the department was right to return it", NULL },
	{ "rejected", NULL, "the return is counted against the department", NULL },
	{ "department", "DEPT",
	  "with --upheld: send it to this department (default: the one the return named)",
	  "department" },
	{ "note", "TEXT", "a note", "note" },
	O_VERSION,
	O_KEY,
	O_END,
};

static const struct args_opt o_list[] = {
	{ "state", "STATE", "only tickets in this state", "state" },
	{ "category", "CODE", "category code or id (with its sub-categories)", "category" },
	{ "grid", "CODE", "grid code or id", "grid" },
	{ "department", "DEPT", "department code or id", "department" },
	{ "overdue", NULL, "only tickets whose current deadline has passed", "overdue" },
	{ "text", "TEXT", "description or address contains TEXT", "text" },
	{ "from", "TIME", "created at or after TIME (RFC 3339)", "from" },
	{ "to", "TIME", "created before TIME (RFC 3339)", "to" },
	{ "limit", "N", "tickets per page (default 50)", "limit" },
	{ "after", "ID", "the page after this ticket id (the 'next' of the last page)", "after" },
	{ "all", NULL, "fetch every page", NULL },
	O_END,
};

static const struct args_opt o_overdue[] = {
	{ "limit", "N", "tickets per page (default 50)", "limit" },
	{ "after", "CURSOR", "the page after this cursor (the 'next' of the last page)", "after" },
	{ "all", NULL, "fetch every page", NULL },
	O_END,
};

#define O_PERIOD                                                                                   \
	{ "month", "YYYY-MM", "the period: a month", NULL },                                       \
	        { "quarter", "YYYYQn", "the period: a quarter (2026Q4)", NULL },                   \
	        { "year", "YYYY", "the period: a year", NULL },                                    \
	        { "from", "DAY", "the period: from this day (YYYY-MM-DD, with --to)", NULL },      \
	{                                                                                          \
		"to", "DAY", "the period: before this day (YYYY-MM-DD)", NULL                      \
	}

static const struct args_opt o_stats[] = {
	O_PERIOD,
	{ "by", "GROUP", "department (default), street, district, category or grid", NULL },
	{ "series", "STEP", "one row per day, week or month of the period", NULL },
	O_END,
};

static const struct args_opt o_ranking[] = {
	O_PERIOD,
	{ "by", "GROUP", "department (default) or street", NULL },
	{ "top", "N", "the red and black lists' length (default 3)", "top" },
	O_END,
};

static const struct args_opt o_export[] = {
	O_PERIOD,
	{ "format", "FORMAT",
	  "csv (default; UTF-8 with a BOM for Excel) or xlsx (an Excel sheet; needs -o FILE)",
	  NULL },
	{ "output", "FILE", "write to FILE (-o; default: standard output)", NULL },
	{ "force", NULL, "replace FILE if it exists", NULL },
	O_END,
};

static const struct args_opt o_bulletin[] = {
	O_PERIOD,
	{ "format", "FORMAT", "md (Markdown, default) or csv", NULL },
	{ "output", "FILE", "write to FILE (-o; default: standard output)", NULL },
	{ "force", NULL, "replace FILE if it exists", NULL },
	O_END,
};

static const struct args_opt o_photo[] = {
	{ "output", "FILE", "write the photo to FILE (-o; - for standard output, not a terminal)",
	  NULL },
	{ "force", NULL, "replace FILE if it exists", NULL },
	O_END,
};

static const struct args_opt o_watch[] = {
	{ "since", "SEQ", "start after this event (default: where the last watch stopped)",
	  "since" },
	{ "category", "CODE", "only events of this category", "category" },
	{ "grid", "CODE", "only events of this grid", "grid" },
	{ "state", "STATE", "only events that lead to this state", "state" },
	{ "keepalive", "SECONDS",
	  "send whoami this often, within the server's idle timeout "
	  "(default 60)",
	  NULL },
	O_END,
};

/* A period of the assessment: one of month, quarter, year, or from with to (cmd_score.c). */
#define O_MONTH                                                                                    \
	{                                                                                          \
		"month", "YYYY-MM", "the period is this month", NULL                               \
	}
#define O_QUARTER                                                                                  \
	{                                                                                          \
		"quarter", "YYYY-Qn", "the period is this quarter", NULL                           \
	}
#define O_YEAR                                                                                     \
	{                                                                                          \
		"year", "YYYY", "the period is this year", NULL                                    \
	}
#define O_FROM                                                                                     \
	{                                                                                          \
		"from", "YYYY-MM-DD", "the period's first day (with --to)", NULL                   \
	}
#define O_TO                                                                                       \
	{                                                                                          \
		"to", "YYYY-MM-DD", "the day after its last day (with --from)", NULL               \
	}

static const struct args_opt o_score[] = {
	O_MONTH,
	O_QUARTER,
	O_YEAR,
	O_FROM,
	O_TO,
	{ "department", "DEPT", "department code or id (set: required; get: only it)", NULL },
	{ "criterion", "CODE", "what is scored (streetctl criteria; set: required)", NULL },
	{ "comment", "TEXT", "why this score (set only)", "comment" },
	{ "street", "CODE", "only this street's scores (get only)", NULL },
	O_END,
};

static const struct args_opt o_lock[] = { O_MONTH, O_QUARTER, O_YEAR, O_FROM, O_TO, O_END };

static const struct args_opt o_audit[] = {
	{ "after", "SEQ", "export: only the events after SEQ (the chain starts at its hash)",
	  "after" },
	O_END,
};

const struct args_cmd cmd_table[] = {
	{ "whoami", "", 0, 0, PROTO_OP_WHOAMI, "show your account, role and scope", NULL, o_none,
	  cmd_whoami },
	{ "report", "", 0, 0, PROTO_OP_REPORT, "report a problem (上报): a new ticket",
	  "Photos are uploaded first (SHA-256 checked by the server), then attached.\n"
	  "Example: streetctl report --category pollution.noise --grid jg-yanan-01 \\\n"
	  "           --description '夜间施工噪声' --address '延安北路12号' --photo site.jpg",
	  o_report, cmd_report },
	{ "dispatch", "ID", 1, 1, PROTO_OP_DISPATCH,
	  "dispatch a reported ticket to a department (派单)",
	  "Shows the department the routing rules choose, and sends the ticket there\n"
	  "unless --to names another.",
	  o_dispatch, cmd_dispatch },
	{ "accept", "ID", 1, 1, PROTO_OP_ACCEPT, "accept a dispatched ticket (接单)", NULL, o_plain,
	  cmd_accept },
	{ "return", "ID", 1, 1, PROTO_OP_RETURN,
	  "return a ticket to the street office (退单): not your department's",
	  "Name the department you believe responsible; until the street office acts, a\n"
	  "supervisor's ruling (streetctl arbitrate) decides where the ticket goes.",
	  o_return, cmd_return },
	{ "resolve", "ID", 1, 1, PROTO_OP_RESOLVE, "report an accepted ticket as dealt with (处置)",
	  NULL, o_resolve, cmd_resolve },
	{ "confirm", "ID", 1, 1, PROTO_OP_CONFIRM,
	  "confirm a resolved ticket and rate it (确认办结)", NULL, o_confirm, cmd_confirm },
	{ "reopen", "ID", 1, 1, PROTO_OP_REOPEN,
	  "send a resolved ticket back to its department (重新办理)", NULL, o_reason, cmd_reopen },
	{ "cancel", "ID", 1, 1, PROTO_OP_CANCEL, "cancel a ticket (撤销), e.g. as a duplicate",
	  NULL, o_cancel, cmd_cancel },
	{ "urge", "ID", 1, 1, PROTO_OP_URGE, "press whoever holds the ticket now (督办)", NULL,
	  o_note, cmd_urge },
	{ "extend", "ID", 1, 1, PROTO_OP_EXTEND_REQUEST,
	  "ask for more time (--until, --reason), or --grant / --deny a request",
	  "A department asks:        streetctl extend 42 --until 2026-12-10T17:00:00+08:00 "
	  "--reason '...'\nThe street office decides: streetctl extend 42 --grant [--note ...]",
	  o_extend, cmd_extend },
	{ "comment", "ID TEXT", 2, 2, PROTO_OP_COMMENT, "add a comment to a ticket's history", NULL,
	  o_comment, cmd_comment },
	{ "arbitrate", "ID", 1, 1, PROTO_OP_ARBITRATE,
	  "decide on a department's return (supervisor): --upheld or --rejected",
	  "While the ticket still waits on that return, the ruling dispatches it: upheld,\n"
	  "to the department the return named (or --department); rejected, back to the\n"
	  "department that returned it.  Once the street office has acted on the ticket,\n"
	  "the ruling only records whether the return counts.",
	  o_arbitrate, cmd_arbitrate },
	{ "show", "ID", 1, 1, PROTO_OP_GET, "show a ticket and its history as a timeline", NULL,
	  o_none, cmd_show },
	{ "photo", "PHOTO", 1, 1, PROTO_OP_PHOTO_GET,
	  "download a photo of a ticket (its number: streetctl show ID)",
	  "The SHA-256 the server gives is checked before anything is written; the file\n"
	  "appears whole or not at all.  Example: streetctl photo 17 -o site.png",
	  o_photo, cmd_photo },
	{ "list", "", 0, 0, PROTO_OP_LIST, "list the tickets you may see, newest first",
	  LIST_LEGEND, o_list, cmd_list },
	{ "overdue", "", 0, 0, PROTO_OP_OVERDUE,
	  "list open tickets past their deadline, most "
	  "overdue first",
	  LIST_LEGEND, o_overdue, cmd_overdue },
	{ "watch", "", 0, 0, PROTO_OP_SUBSCRIBE, "print events as they happen (Ctrl-C to stop)",
	  "Resumes where the last watch stopped: the last event's seq is kept in\n"
	  "$XDG_STATE_HOME/streetctl/watch-SERVER-LOGIN.seq (~/.local/state/...).\n"
	  "After a lost connection it reconnects (backing off up to 30 s) and asks for\n"
	  "what it missed, so no event is lost or printed twice.",
	  o_watch, cmd_watch },
	{ "stats", "", 0, 0, PROTO_OP_STATS, "the assessment's figures of a period, per unit",
	  "Every figure is defined in docs/assessment.md; --json gives them all.\n"
	  "Example: streetctl stats --month 2026-11 --by street --series week",
	  o_stats, cmd_stats },
	{ "ranking", "", 0, 0, PROTO_OP_RANKING,
	  "rank the departments or streets of a period by their composite",
	  "Ties share a rank (1, 2, 2, 4); units under the minimum volume are listed\n"
	  "unranked.  Example: streetctl ranking --month 2026-11",
	  o_ranking, cmd_ranking },
	{ "audit", "export|verify DIR", 2, 2, PROTO_OP_AUDIT_EVENTS,
	  "export the signed event chain, or verify an export offline (审计)",
	  "export (a city-wide supervisor) writes DIR/events.tsv and DIR/checkpoints/\n"
	  "(with --after SEQ, DIR/start.txt: where the partial chain starts).\n"
	  "verify needs no server: it recomputes the chain, checks every checkpoint's\n"
	  "signature and certificate against --ca FILE, and names the first event that\n"
	  "was changed, removed or inserted (exit 65).  docs/audit.md has the formats.\n"
	  "Example: streetctl audit export 2026-11 && streetctl audit verify 2026-11 --ca ca.crt",
	  o_audit, cmd_audit },
	{ "export", "", 0, 0, PROTO_OP_EXPORT,
	  "the tickets of a period, one row each with every step, as CSV or xlsx",
	  "Every ticket of your scope open at some time of the period: its steps'\n"
	  "times, deadlines, who ended them, overdue flags, rating.  Fetched and\n"
	  "written page by page; with -o the file appears whole or not at all.\n"
	  "--format xlsx writes one Excel sheet (-o FILE only; at most 1,048,575\n"
	  "tickets, Excel's limit: past it nothing is written).\n"
	  "--json writes one JSON object per ticket and line (all the steps).\n"
	  "Example: streetctl export --month 2026-11 -o 2026-11.csv",
	  o_export, cmd_export },
	{ "bulletin", "", 0, 0, PROTO_OP_BULLETIN,
	  "the monthly bulletin (通报): figures, rankings, overdue items",
	  "Figures per department and street, the rankings with their red and black\n"
	  "lists, and the steps whose deadline passed in the period (the first 200).\n"
	  "Example: streetctl bulletin --month 2026-11 -o 2026-11.md",
	  o_bulletin, cmd_bulletin },
	{ "categories", "", 0, 0, PROTO_OP_CATEGORIES, "list the categories and their deadlines",
	  NULL, o_none, cmd_categories },
	{ "departments", "", 0, 0, PROTO_OP_DEPARTMENTS, "list the departments", NULL, o_none,
	  cmd_departments },
	{ "grids", "", 0, 0, PROTO_OP_PLACES, "list the grids with their community and street",
	  NULL, o_none, cmd_grids },
	{ "criteria", "", 0, 0, PROTO_OP_CRITERIA,
	  "list what streets score departments on, with the weights", NULL, o_none, cmd_criteria },
	{ "score", "get|set [SCORE]", 1, 2, PROTO_OP_SCORE_SET,
	  "the scores streets give departments (考核赋分): get, or set (street)",
	  "A street office scores each department its tickets went to in the period,\n"
	  "0 to 100 (2 decimals) per criterion; setting it again replaces it (audited).\n"
	  "Examples: streetctl score set --month 2026-11 --department cgj --criterion response 92\n"
	  "          streetctl score get --month 2026-11",
	  o_score, cmd_score },
	{ "lock", "", 0, 0, PROTO_OP_PERIOD_LOCK,
	  "lock a period's scores for good (city-wide supervisor)",
	  "After the lock no score of the period can change.  Example:\n"
	  "  streetctl lock --month 2026-11",
	  o_lock, cmd_lock },
};

const int cmd_count = (int)(sizeof(cmd_table) / sizeof(cmd_table[0]));
