/*
 * Open311 GeoReport v2 over HTTPS (docs/open311.md, "Endpoints"), end to
 * end: the real daemon with http.enabled, driven by curl over real TLS
 * without a client certificate, against the real database.  A conformance
 * walk endpoint by endpoint in both formats (discovery, services, a service
 * definition, POST requests, GET requests with each filter and the
 * defaults, a request by id, the errors), every XML answer parsed back
 * (o311_xml_json.py, python3's xml.etree) and checked against its JSON
 * twin; then bad input (invalid UTF-8, injection in a description, a place
 * outside every grid) that writes nothing, and a flood of wrong keys that
 * ends in 429 while the socket protocol's clients go on.
 */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdaemon.h"
#include "thttp.h"
#include "tdb.h"

/* printf into one of 16 rotating buffers (forms outgrow tdb_fmt's). */
__attribute__((format(printf, 1, 2))) static const char *fmt(const char *f, ...)
{
	static char bufs[16][4096];
	static unsigned next;
	char *b = bufs[next++ % 16];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

/* s percent-encoded for a form, in one of fmt()'s buffers. */
static const char *urlenc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char out[4096];
	size_t o = 0;

	for (; *s && o + 4 < sizeof(out); s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return fmt("%s", out);
}

/* One request with curl (thttp.h), no client certificate; body NULL =
 * none (ctype then unused).  The body is saved as resp.body for
 * o311_xml_json.py. */
static struct thttp_res hcall(struct tdaemon *d, int port, const char *method, const char *path,
                              const char *ctype, const char *body)
{
	return thttp(d, &(struct thttp_req){ .port = port,
	                                     .method = method,
	                                     .path = path,
	                                     .ctype = body ? ctype : NULL,
	                                     .body = body });
}

#define hfree thttp_free

static struct thttp_res get(struct tdaemon *d, int port, const char *path)
{
	return hcall(d, port, "GET", path, NULL, NULL);
}

static struct thttp_res post(struct tdaemon *d, int port, const char *path, const char *form)
{
	return hcall(d, port, "POST", path, "application/x-www-form-urlencoded", form);
}

#define has_header thttp_has_header

static struct tdaemon *start(int *port)
{
	*port = tdaemon_free_port();
	return tdaemon_start(fmt("http.enabled=true\nhttp.listen=127.0.0.1:%d\n", *port));
}

/* GET path.json and path.xml (path has "{fmt}" where the format goes):
 * both 200 (or status), the XML saying what the JSON says.  Returns the
 * JSON answer. */
static struct thttp_res both(struct tdaemon *d, int port, const char *path, int status)
{
	const char *at = strstr(path, "{fmt}");
	char pj[1024], px[1024], fx[512], fj[512];
	struct thttp_res j, x;
	FILE *f;
	int rc;

	ck_assert_ptr_nonnull(at);
	snprintf(pj, sizeof(pj), "%.*sjson%s", (int)(at - path), path, at + 5);
	snprintf(px, sizeof(px), "%.*sxml%s", (int)(at - path), path, at + 5);
	/* other suites write tickets meanwhile: a list may change between the
	 * two GETs, so a pair that differs is fetched again (a few times) */
	for (int attempt = 0;; attempt++) {
		j = get(d, port, pj);
		ck_assert_msg(j.status == status, "%s: %d %.2000s", pj, j.status, j.body);
		ck_assert_msg(j.json, "%s: not JSON: %.2000s", pj, j.body);
		ck_assert(has_header(&j, "Content-Type: application/json; charset=utf-8"));
		ck_assert(has_header(&j, "Content-Security-Policy:"));
		x = get(d, port, px);
		ck_assert_msg(x.status == status, "%s: %d %.2000s", px, x.status, x.body);
		ck_assert(has_header(&x, "Content-Type: text/xml; charset=utf-8"));
		ck_assert(strncmp(x.body, "<?xml", 5) == 0);
		snprintf(fx, sizeof(fx), "%s/cmp.xml", tdaemon_dir(d));
		snprintf(fj, sizeof(fj), "%s/cmp.json", tdaemon_dir(d));
		f = fopen(fx, "w");
		fputs(x.body, f);
		fclose(f);
		f = fopen(fj, "w");
		fputs(j.body, f);
		fclose(f);
		rc = system(fmt("python3 %s/o311_xml_json.py %s %s", getenv("STREETD_TEST_SRCDIR"),
		                fx, fj));
		if (rc == 0)
			break;
		ck_assert_msg(attempt < 4, "%s: the XML differs from the JSON:\n%.1000s\n%.1000s",
		              path, x.body, j.body);
		hfree(&x);
		hfree(&j);
	}
	hfree(&x);
	return j;
}

/* A key for zhang.wei (a Jianguolu street office: reports in its grids). */
static char *make_key(PGconn *adm, const char *tag)
{
	char *key = strdup(fmt("o311h-%s-%d-%lld", tag, (int)getpid(), tnow_ms()));

	tdb_int(adm,
	        "INSERT INTO street.api_client (name, key_sha256, account_id)"
	        " SELECT $1, sha256(convert_to($1, 'UTF8')), id FROM street.account"
	        " WHERE login = 'zhang.wei' RETURNING 1",
	        1, (const char *const[]){ key });
	return key;
}

static long long tickets_with(PGconn *adm, const char *desc)
{
	return tdb_int(adm, "SELECT count(*) FROM street.ticket WHERE description = $1", 1,
	               (const char *const[]){ desc });
}

/* The ids of a list of requests, in order, joined by commas (caller frees). */
static char *ids_of(json_object *list)
{
	size_t n = json_object_array_length(list), cap = 16 * n + 1, len = 0;
	char *out = calloc(1, cap);

	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(
		        out + len, cap - len, "%s%s", i ? "," : "",
		        tj_str(json_object_array_get_idx(list, i), "service_request_id"));
	return out;
}

/* Whether a list of requests holds id. */
static bool has_id(json_object *list, const char *id)
{
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (strcmp(tj_str(json_object_array_get_idx(list, i), "service_request_id"), id) ==
		    0)
			return true;
	return false;
}

/* The first error of the spec's list: code and description. */
static void check_error(const struct thttp_res *r, int status, const char *part)
{
	ck_assert_msg(r->status == status, "status %d: %s", r->status, r->body);
	ck_assert_msg(r->json && json_object_is_type(r->json, json_type_array), "%s", r->body);
	ck_assert_int_eq(tj_int(r->json, "0.code"), status);
	ck_assert_msg(strstr(tj_str(r->json, "0.description"), part), "%s", r->body);
}

START_TEST(test_conformance)
{
	int port;
	struct tdaemon *d = start(&port);
	PGconn *adm = tdb_connect(true);
	char *key = make_key(adm, "c");
	char *desc = strdup(fmt("<script>alert(1)</script> ]]> & \"q\" 噪声 %lld", tnow_ms()));
	char form[2048], *id, *t0, *t1;
	struct thttp_res r;
	json_object *s;

	/* discovery: the endpoint and both formats */
	r = both(d, port, "/open311/v2/discovery.{fmt}", 200);
	ck_assert_str_eq(tj_str(r.json, "endpoints.0.specification"),
	                 "http://wiki.open311.org/GeoReport_v2");
	ck_assert_str_eq(tj_str(r.json, "endpoints.0.url"),
	                 fmt("https://127.0.0.1:%d/open311/v2/", port));
	ck_assert_str_eq(tj_str(r.json, "endpoints.0.formats.0"), "text/xml");
	ck_assert_str_eq(tj_str(r.json, "endpoints.0.formats.1"), "application/json");
	hfree(&r);

	/* services: leaf categories, one with metadata */
	r = both(d, port, "/open311/v2/services.{fmt}", 200);
	ck_assert_int_gt(json_object_array_length(r.json), 3);
	s = NULL;
	for (size_t i = 0; i < json_object_array_length(r.json); i++) {
		json_object *e = json_object_array_get_idx(r.json, i);

		if (strcmp(tj_str(e, "service_code"), "pollution.noise") == 0)
			s = e;
	}
	ck_assert_ptr_nonnull(s);
	ck_assert(tj_bool(s, "metadata"));
	ck_assert_str_eq(tj_str(s, "type"), "realtime");
	hfree(&r);

	/* a service definition, and one without attributes */
	r = both(d, port, "/open311/v2/services/pollution.noise.{fmt}", 200);
	ck_assert_str_eq(tj_str(r.json, "service_code"), "pollution.noise");
	ck_assert_str_eq(tj_str(r.json, "attributes.0.code"), "when");
	ck_assert_str_eq(tj_str(r.json, "attributes.0.values.1.key"), "night");
	hfree(&r);
	r = both(d, port, "/open311/v2/services/no.such.{fmt}", 404);
	check_error(&r, 404, "no.such");
	hfree(&r);

	/* POST requests: the form, attributes, a description that is markup */
	snprintf(form, sizeof(form),
	         "api_key=%s&jurisdiction_id=changji&service_code=pollution.noise&lat=44.02&"
	         "long=87.285&address_string=%%E5%%BB%%B6%%E5%%AE%%89+12&description=%s&"
	         "attribute%%5Bwhen%%5D=night&attribute[source]=a+bar&email=x%%40example.org",
	         key, urlenc(desc));
	r = post(d, port, "/open311/v2/requests.json", form);
	ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
	ck_assert_uint_eq(json_object_array_length(r.json), 1);
	id = strdup(tj_str(r.json, "0.service_request_id"));
	ck_assert_ptr_nonnull(tj_str(r.json, "0.service_notice"));
	hfree(&r);
	ck_assert_int_eq(tickets_with(adm, desc), 1);

	/* the request by id: escaped in both formats, read back as sent */
	r = both(d, port, fmt("/open311/v2/requests/%s.{fmt}", id), 200);
	ck_assert_str_eq(tj_str(r.json, "0.description"), desc);
	ck_assert_str_eq(tj_str(r.json, "0.status"), "open");
	ck_assert_str_eq(tj_str(r.json, "0.address"), "延安 12");
	ck_assert_str_eq(tj_str(r.json, "0.service_code"), "pollution.noise");
	hfree(&r);
	r = get(d, port, fmt("/open311/v2/requests/%s.xml", id));
	ck_assert_ptr_null(strstr(r.body, "<script>"));
	ck_assert_ptr_nonnull(strstr(r.body, "&lt;script&gt;"));
	hfree(&r);

	/* GET requests: the defaults (90 days) and each filter */
	r = both(d, port, "/open311/v2/requests.{fmt}", 200);
	ck_assert(has_id(r.json, id));
	for (size_t i = 1; i < json_object_array_length(r.json); i++) /* newest first */
		ck_assert_str_ge(
		        tj_str(json_object_array_get_idx(r.json, i - 1), "requested_datetime"),
		        tj_str(json_object_array_get_idx(r.json, i), "requested_datetime"));
	hfree(&r);
	r = both(d, port, fmt("/open311/v2/requests.{fmt}?service_request_id=%s,999999999", id),
	         200);
	ck_assert_uint_eq(json_object_array_length(r.json), 1);
	hfree(&r);
	r = both(d, port,
	         "/open311/v2/requests.{fmt}?service_code=pollution.noise&status=open"
	         "&jurisdiction_id=x&whatever=1",
	         200);
	ck_assert(has_id(r.json, id));
	hfree(&r);
	r = both(d, port, "/open311/v2/requests.{fmt}?status=closed&service_code=pollution.noise",
	         200);
	ck_assert(!has_id(r.json, id));
	hfree(&r);
	/* several services, one named twice: the newest of all of them, each once, as
	 * one ordered read of the window would give (st_o311_requests reads each
	 * service on its own and merges).  The window is the seconds of these
	 * posts: other suites report and move tickets of these services meanwhile,
	 * and a wider one changed between the reads (a fresh-clone run failed). */
	t0 = tdb_str(adm,
	             "SELECT to_char(date_trunc('second', now()) AT TIME ZONE 'UTC',"
	             " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
	             0, NULL);
	for (int i = 0; i < 4; i++) {
		snprintf(form, sizeof(form),
		         "api_key=%s&service_code=%s&lat=44.02&long=87.285&description=merge+%d",
		         key, i % 2 ? "pollution.noise&attribute[when]=day" : "pollution.dust", i);
		r = post(d, port, "/open311/v2/requests.json", form);
		ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
		hfree(&r);
	}
	usleep(1100000); /* the window ends after the last post, in a whole second */
	t1 = tdb_str(adm,
	             "SELECT to_char(date_trunc('second', now()) AT TIME ZONE 'UTC',"
	             " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
	             0, NULL);
	for (int open = 0; open < 2; open++) {
		char *want = tdb_str(adm,
		                     "SELECT coalesce(string_agg(id::text, ',' ORDER BY created_at "
		                     "DESC, id DESC), '')"
		                     " FROM (SELECT t.id, t.created_at FROM street.ticket t"
		                     " JOIN street.category c ON c.id = t.category_id"
		                     " WHERE c.code IN ('pollution.noise', 'pollution.dust')"
		                     " AND t.created_at BETWEEN $2::timestamptz AND $3::timestamptz"
		                     " AND ($1 = '' OR (t.due_at IS NOT NULL) = ($1 = 'open'))"
		                     " ORDER BY t.created_at DESC, t.id DESC LIMIT 1000) x",
		                     3, (const char *const[]){ open ? "open" : "", t0, t1 });
		char *got;

		r = both(d, port,
		         fmt("/open311/v2/requests.{fmt}?service_code=pollution.noise,"
		             "pollution.dust,pollution.noise&start_date=%s&end_date=%s%s",
		             t0, t1, open ? "&status=open" : ""),
		         200);
		got = ids_of(r.json);
		ck_assert_msg(strchr(want, ','), "more than one request: %s", want);
		ck_assert_msg(strcmp(got, want) == 0, "got %.300s, want %.300s", got, want);
		free(got);
		free(want);
		hfree(&r);
	}
	free(t0);
	free(t1);
	r = both(d, port,
	         "/open311/v2/requests.{fmt}?start_date=2020-01-01T00:00:00Z"
	         "&end_date=2020-02-01T00:00:00%2B08:00",
	         200);
	ck_assert_uint_eq(json_object_array_length(r.json), 0);
	hfree(&r);
	r = both(d, port, "/open311/v2/requests.{fmt}?status=bogus", 400);
	check_error(&r, 400, "status");
	hfree(&r);
	r = both(d, port, "/open311/v2/requests.{fmt}?end_date=yesterday", 400);
	check_error(&r, 400, "end_date");
	hfree(&r);
	r = both(d, port, "/open311/v2/requests.{fmt}?status=open&status=closed", 400);
	check_error(&r, 400, "given twice");
	hfree(&r);

	/* POST answered in XML */
	snprintf(form, sizeof(form),
	         "api_key=%s&service_code=pollution.noise&lat=44.02&long=87.285&"
	         "description=xml+post+%lld&attribute[when]=day",
	         key, tnow_ms());
	r = post(d, port, "/open311/v2/requests.xml", form);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.body, "<service_requests>") &&
	                      strstr(r.body, "<service_request_id>"),
	              "%s", r.body);
	hfree(&r);

	/* errors: unknown request, endpoints, formats, methods */
	r = both(d, port, "/open311/v2/requests/999999999.{fmt}", 404);
	check_error(&r, 404, "not found");
	hfree(&r);
	r = both(d, port, "/open311/v2/requests/abc.{fmt}", 404);
	hfree(&r);
	r = both(d, port, "/open311/v2/nothing.{fmt}", 404);
	check_error(&r, 404, "no such Open311 endpoint");
	hfree(&r);
	r = get(d, port, "/open311/v2/services.html");
	check_error(&r, 404, "no such Open311 endpoint");
	hfree(&r);
	r = get(d, port, "/open311/v2/services%00.json");
	ck_assert_int_eq(r.status, 404);
	hfree(&r);
	r = post(d, port, "/open311/v2/services.json", "x=1");
	check_error(&r, 405, "method");
	ck_assert(has_header(&r, "Allow: GET, HEAD"));
	hfree(&r);
	r = hcall(d, port, "POST", "/open311/v2/requests.json", "application/json", "{}");
	check_error(&r, 415, "x-www-form-urlencoded");
	hfree(&r);
	r = hcall(d, port, "POST", "/open311/v2/requests.xml", "text/plain", "{}");
	ck_assert_int_eq(r.status, 415);
	ck_assert_ptr_nonnull(strstr(r.body, "<errors><error><code>415</code>"));
	hfree(&r);

	free(id);
	free(key);
	free(desc);
	PQfinish(adm);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* Refused posts: the spec's error, the right status, nothing written. */
START_TEST(test_bad_posts)
{
	int port;
	struct tdaemon *d = start(&port);
	PGconn *adm = tdb_connect(true);
	char *key = make_key(adm, "b");
	char *desc = strdup(fmt("refused %lld", tnow_ms()));
	char *enc = strdup(urlenc(desc));
	struct thttp_res r;

	/* invalid UTF-8 in a field */
	r = post(d, port, "/open311/v2/requests.json",
	         fmt("api_key=%s&service_code=pollution.noise&lat=44.02&long=87.285&"
	             "description=%s%%FF%%FE&attribute[when]=day",
	             key, enc));
	check_error(&r, 400, "parameter description is not UTF-8");
	hfree(&r);
	/* a place in no grid */
	r = post(d, port, "/open311/v2/requests.json",
	         fmt("api_key=%s&service_code=pollution.noise&lat=10&long=10&"
	             "description=%s&attribute[when]=day",
	             key, enc));
	check_error(&r, 400, "lat/long is outside every grid");
	hfree(&r);
	r = post(d, port, "/open311/v2/requests.xml",
	         fmt("api_key=%s&service_code=pollution.noise&lat=91&long=87.285&"
	             "description=%s&attribute[when]=day",
	             key, enc));
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "<code>400</code><description>field") &&
	                      strstr(r.body, "lat") && strstr(r.body, "must be a number"),
	              "%s", r.body);
	hfree(&r);
	/* a required attribute missing, an attribute given twice */
	r = post(d, port, "/open311/v2/requests.json",
	         fmt("api_key=%s&service_code=pollution.noise&lat=44.02&long=87.285&"
	             "description=%s",
	             key, enc));
	check_error(&r, 400, "attribute when is required");
	hfree(&r);
	r = post(d, port, "/open311/v2/requests.json",
	         fmt("api_key=%s&service_code=pollution.noise&lat=44.02&long=87.285&"
	             "description=%s&attribute[when]=day&attribute[when]=night",
	             key, enc));
	check_error(&r, 400, "given twice");
	hfree(&r);
	/* no key, a wrong key */
	r = post(d, port, "/open311/v2/requests.json",
	         fmt("service_code=pollution.noise&lat=44.02&long=87.285&description=%s", enc));
	check_error(&r, 400, "api_key");
	hfree(&r);
	r = post(d, port, "/open311/v2/requests.json",
	         fmt("api_key=wrong&service_code=pollution.noise&lat=44.02&long=87.285&"
	             "description=%s&attribute[when]=day",
	             enc));
	check_error(&r, 403, "api_key is not a valid key");
	hfree(&r);
	ck_assert_int_eq(tickets_with(adm, desc), 0);
	free(key);
	free(desc);
	free(enc);
	PQfinish(adm);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* A flood of wrong keys from one address: 10 answered 403, then 429 with
 * Retry-After without asking the database, even for a good key from there;
 * the socket protocol's clients are not affected. */
START_TEST(test_bad_key_flood)
{
	int port;
	struct tdaemon *d = start(&port);
	PGconn *adm = tdb_connect(true);
	char *key = make_key(adm, "f");
	char *desc = strdup(fmt("flood %lld", tnow_ms()));
	struct tclient *sock = tclient_connect(d, "wang.fang");
	int forbidden = 0, limited = 0;
	struct thttp_res r;
	json_object *w;

	for (int i = 0; i < 14; i++) {
		r = post(d, port, "/open311/v2/requests.json",
		         fmt("api_key=guess-%d&service_code=pollution.noise&lat=44.02&"
		             "long=87.285&description=%s&attribute[when]=day",
		             i, urlenc(desc)));
		if (r.status == 403)
			forbidden++;
		else if (r.status == 429) {
			limited++;
			ck_assert(has_header(&r, "Retry-After: "));
			check_error(&r, 429, "retry later");
		} else
			ck_abort_msg("status %d: %s", r.status, r.body);
		hfree(&r);
	}
	ck_assert_int_eq(forbidden, 10);
	ck_assert_int_eq(limited, 4);
	/* the address is limited, whatever the key */
	r = post(d, port, "/open311/v2/requests.json",
	         fmt("api_key=%s&service_code=pollution.noise&lat=44.02&long=87.285&"
	             "description=%s&attribute[when]=day",
	             key, urlenc(desc)));
	ck_assert_int_eq(r.status, 429);
	hfree(&r);
	ck_assert_int_eq(tickets_with(adm, desc), 0);
	/* reads are not limited, nor the socket protocol */
	r = get(d, port, "/open311/v2/services.json");
	ck_assert_int_eq(r.status, 200);
	hfree(&r);
	w = tclient_ok(sock, "{\"op\":\"whoami\"}");
	ck_assert_str_eq(tj_str(w, "result.account.login"), "wang.fang");
	tclient_close(sock);
	free(key);
	free(desc);
	PQfinish(adm);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* How many times needle is in the daemon's log. */
static int log_count(struct tdaemon *d, const char *needle)
{
	int n = 0;

	for (const char *p = tdaemon_log(d); (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* GET path until the body holds want (the NOTIFY has reached the daemon),
 * for at most 10 s; the last answer. */
static struct thttp_res get_until(struct tdaemon *d, int port, const char *path, const char *want)
{
	struct thttp_res r = get(d, port, path);

	for (int i = 0; i < 200 && !(r.status == 200 && strstr(r.body, want)); i++) {
		hfree(&r);
		usleep(50 * 1000);
		r = get(d, port, path);
	}
	ck_assert_msg(r.status == 200 && strstr(r.body, want), "%s never showed %s: %d %.200s",
	              path, want, r.status, r.body);
	return r;
}

/* The value of header name (the last one), malloc()ed; NULL if absent. */
static char *header_of(const struct thttp_res *r, const char *name)
{
	char *found = NULL, *copy = strdup(r->head), *save = NULL;

	for (char *l = strtok_r(copy, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save))
		if (strncasecmp(l, name, strlen(name)) == 0 && l[strlen(name)] == ':') {
			free(found);
			found = strdup(l + strlen(name) + 2);
		}
	free(copy);
	return found;
}

/* services and service definitions come from the daemon's cache: read once,
 * ETag and If-None-Match, a change to the catalogue seen on the next request
 * once its NOTIFY arrived (a new service, a new name, a new attribute), and
 * concurrent first requests after a change wait on one read. */
START_TEST(test_services_cache)
{
	int port, fills, invalidated;
	struct tdaemon *d = start(&port);
	PGconn *adm = tdb_connect(true);
	char code[64], name[64], renamed[64], *etag, *etag2, *out;
	const char *const p1[] = { code };
	struct thttp_res r;

	snprintf(code, sizeof(code), "cachetest.%d", (int)getpid());
	snprintf(name, sizeof(name), "缓存测试 %d", (int)getpid());
	snprintf(renamed, sizeof(renamed), "改名 %d", (int)getpid());

	/* read once, then from the cache: the same bytes and ETag */
	r = get(d, port, "/open311/v2/services.json");
	ck_assert_int_eq(r.status, 200);
	etag = header_of(&r, "ETag");
	ck_assert_ptr_nonnull(etag);
	out = strdup(r.body);
	hfree(&r);
	fills = log_count(d, "open311 cache fill op=o311_services ");
	ck_assert_int_ge(fills, 1);
	r = get(d, port, "/open311/v2/services.json");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, out);
	ck_assert(has_header(&r, fmt("ETag: %s", etag)));
	hfree(&r);
	ck_assert_int_eq(log_count(d, "open311 cache fill op=o311_services "), fills);
	/* If-None-Match: 304 without a body; another ETag: the answer */
	r = thttp(d, &(struct thttp_req){ .port = port,
	                                  .path = "/open311/v2/services.json",
	                                  .header = fmt("If-None-Match: %s", etag) });
	ck_assert_int_eq(r.status, 304);
	ck_assert_str_eq(r.body, "");
	ck_assert(has_header(&r, "Content-Security-Policy: "));
	hfree(&r);
	r = thttp(d, &(struct thttp_req){ .port = port,
	                                  .path = "/open311/v2/services.json",
	                                  .header = "If-None-Match: \"0000000000000000\"" });
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, out);
	hfree(&r);

	/* a new service (a leaf under pollution.noise's group) */
	ck_assert_int_eq(
	        tdb_int(adm,
	                "WITH n AS (INSERT INTO street.category (parent_id, code, name, name_en,"
	                " dispatch_s, accept_s, resolve_s, feedback_s, urgent_dispatch_s,"
	                " urgent_accept_s, urgent_resolve_s, urgent_feedback_s)"
	                " SELECT parent_id, $1, $2, 'cache test', dispatch_s, accept_s, resolve_s,"
	                " feedback_s, urgent_dispatch_s, urgent_accept_s, urgent_resolve_s,"
	                " urgent_feedback_s FROM street.category WHERE code = 'pollution.noise'"
	                " RETURNING 1) SELECT count(*) FROM n",
	                2, (const char *const[]){ code, name }),
	        1);
	r = get_until(d, port, "/open311/v2/services.json", name);
	etag2 = header_of(&r, "ETag");
	ck_assert_str_ne(etag2, etag);
	hfree(&r);
	r = get(d, port, "/open311/v2/services.xml");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, name));
	hfree(&r);
	r = get(d, port, fmt("/open311/v2/services/%s.json", code));
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(json_object_array_length(tj_get(r.json, "attributes")), 0);
	hfree(&r);

	/* renamed: the next request after the NOTIFY has the new name */
	ck_assert_int_eq(tdb_int(adm,
	                         "WITH u AS (UPDATE street.category SET name = $2 WHERE code = $1"
	                         " RETURNING 1) SELECT count(*) FROM u",
	                         2, (const char *const[]){ code, renamed }),
	                 1);
	r = get_until(d, port, "/open311/v2/services.json", renamed);
	ck_assert_ptr_null(strstr(r.body, name));
	hfree(&r);
	r = get(d, port, "/open311/v2/services.xml");
	ck_assert_ptr_nonnull(strstr(r.body, renamed));
	hfree(&r);

	/* an attribute: the definition follows */
	ck_assert_int_eq(tdb_int(adm,
	                         "WITH n AS (INSERT INTO street.category_attribute (category_id,"
	                         " code, datatype, ord, description) SELECT id, 'cached', 'string',"
	                         " 1, 'cache test' FROM street.category WHERE code = $1"
	                         " RETURNING 1) SELECT count(*) FROM n",
	                         1, p1),
	                 1);
	r = get_until(d, port, fmt("/open311/v2/services/%s.json", code), "\"cached\"");
	hfree(&r);

	/* eight clients at once after a change: one read */
	invalidated = log_count(d, "open311 cache invalidated");
	ck_assert_int_eq(tdb_int(adm,
	                         "WITH u AS (UPDATE street.category SET name_en = 'cache test 2'"
	                         " WHERE code = $1 RETURNING 1) SELECT count(*) FROM u",
	                         1, p1),
	                 1);
	for (int i = 0; i < 200 && log_count(d, "open311 cache invalidated") == invalidated; i++)
		usleep(50 * 1000);
	ck_assert_int_gt(log_count(d, "open311 cache invalidated"), invalidated);
	fills = log_count(d, "open311 cache fill op=o311_services ");
	{
		char cmd[1024];

		snprintf(cmd, sizeof(cmd),
		         "cd '%s' && for i in 1 2 3 4 5 6 7 8; do curl -sS --max-time 10 --cacert "
		         "'%s'"
		         " -o /dev/null -w '%%{http_code}\\n' https://127.0.0.1:%d/open311/v2/"
		         "services.json & done > many.out; wait",
		         tdaemon_dir(d), ttls_path("ca.crt"), port);
		ck_assert_int_eq(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s/many.out", tdaemon_dir(d));
		{
			FILE *f = fopen(cmd, "r");
			char line[32];
			int ok = 0;

			ck_assert_ptr_nonnull(f);
			while (fgets(line, sizeof(line), f))
				ok += strcmp(line, "200\n") == 0;
			fclose(f);
			ck_assert_int_eq(ok, 8);
		}
	}
	ck_assert_int_eq(log_count(d, "open311 cache fill op=o311_services "), fills + 1);
	r = get(d, port, "/open311/v2/services.json");
	ck_assert_ptr_nonnull(strstr(r.body, "cache test 2"));
	hfree(&r);

	/* gone again: no longer a service */
	tdb_int(adm,
	        "WITH a AS (DELETE FROM street.category_attribute WHERE category_id ="
	        " (SELECT id FROM street.category WHERE code = $1) RETURNING 1),"
	        " c AS (DELETE FROM street.category WHERE code = $1 RETURNING 1)"
	        " SELECT count(*) FROM c",
	        1, p1);
	r = get(d, port, fmt("/open311/v2/services/%s.json", code));
	for (int i = 0; i < 200 && r.status != 404; i++) {
		hfree(&r);
		usleep(50 * 1000);
		r = get(d, port, fmt("/open311/v2/services/%s.json", code));
	}
	ck_assert_int_eq(r.status, 404);
	hfree(&r);
	free(etag);
	free(etag2);
	free(out);
	PQfinish(adm);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_open311");
	TCase *tc = tcase_create("open311");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_conformance);
	tcase_add_test(tc, test_bad_posts);
	tcase_add_test(tc, test_bad_key_flood);
	tcase_add_test(tc, test_services_cache);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
