/*
 * lib/open311_xml: the spec's documents for each Open311 op, escaping by
 * libxml2, the characters XML 1.0 cannot carry, and refusals of results of
 * the wrong shape.  Every document written is parsed back with libxml2
 * (well-formed, and the text reads back as written).
 */
#include <check.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

#include "open311_xml.h"

/* Writes op's document for the JSON text j; checks it parses back. */
static char *xml_of(enum proto_op op, const char *j)
{
	json_object *o = json_tokener_parse(j);
	char *out = (char *)1;
	size_t len = 99;
	xmlDocPtr doc;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(open311_xml(op, o, &out, &len), 0);
	json_object_put(o);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(len, strlen(out));
	doc = xmlReadMemory(out, (int)len, "t.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	ck_assert_msg(doc != NULL, "not well-formed: %s", out);
	xmlFreeDoc(doc);
	return out;
}

static void has(const char *xml, const char *part)
{
	ck_assert_msg(strstr(xml, part) != NULL, "no %s in %s", part, xml);
}

START_TEST(test_services)
{
	char *x = xml_of(PROTO_OP_O311_SERVICES,
	                 "[{\"service_code\": \"pollution.noise\", \"service_name\": \"噪声扰民\","
	                 " \"description\": \"Noise nuisance\", \"metadata\": true, \"type\":"
	                 " \"realtime\", \"keywords\": \"a,b\", \"group\": \"环境污染\"}]");

	ck_assert_ptr_nonnull(strstr(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
	has(x, "<services><service><service_code>pollution.noise</service_code>"
	       "<service_name>噪声扰民</service_name><description>Noise nuisance</description>"
	       "<metadata>true</metadata><type>realtime</type><keywords>a,b</keywords>"
	       "<group>环境污染</group></service></services>");
	free(x);
	x = xml_of(PROTO_OP_O311_SERVICES, "[]");
	has(x, "<services/>");
	free(x);
}
END_TEST

START_TEST(test_service_definition)
{
	char *x =
	        xml_of(PROTO_OP_O311_SERVICE,
	               "{\"service_code\": \"pollution.noise\", \"attributes\": [{\"variable\":"
	               " true, \"code\": \"when\", \"datatype\": \"singlevaluelist\", \"required\":"
	               " true, \"datatype_description\": null, \"order\": 1, \"description\":"
	               " \"When?\", \"values\": [{\"key\": \"day\", \"name\": \"daytime\"}]}]}");

	has(x, "<service_definition><service_code>pollution.noise</service_code><attributes>"
	       "<attribute><variable>true</variable><code>when</code>"
	       "<datatype>singlevaluelist</datatype><required>true</required>"
	       "<datatype_description/><order>1</order><description>When?</description>"
	       "<values><value><key>day</key><name>daytime</name></value></values></attribute>"
	       "</attributes></service_definition>");
	free(x);
}
END_TEST

START_TEST(test_requests)
{
	char *x = xml_of(PROTO_OP_O311_REQUESTS,
	                 "[{\"service_request_id\": \"42\", \"status\": \"open\", \"lat\": 44.02,"
	                 " \"long\": 87.285, \"media_url\": null}]");

	has(x, "<service_requests><request><service_request_id>42</service_request_id>"
	       "<status>open</status><lat>44.02</lat><long>87.285</long><media_url/></request>"
	       "</service_requests>");
	free(x);
	x = xml_of(PROTO_OP_O311_POST, "[{\"service_request_id\": \"7\", \"service_notice\":"
	                               " \"n\", \"account_id\": null}]");
	has(x, "<service_requests><request><service_request_id>7</service_request_id>");
	free(x);
	x = xml_of(PROTO_OP_O311_REQUEST, "[{\"service_request_id\": \"7\"}]");
	has(x, "<service_requests><request>");
	free(x);
}
END_TEST

/* Injection: the library escapes; what XML cannot carry becomes U+FFFD. */
START_TEST(test_escaping)
{
	char *x = xml_of(PROTO_OP_O311_REQUESTS,
	                 "[{\"description\": \"<script>alert(1)</script> ]]> & \\\"q\\\" 'a'\"}]");
	char *y;
	json_object *o;
	size_t len;

	ck_assert_ptr_null(strstr(x, "<script>"));
	ck_assert_ptr_null(strstr(x, "]]>"));
	has(x, "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp;");
	free(x);

	/* U+0000..U+001F: tab, LF and CR stay; the rest (NUL included) become U+FFFD */
	x = xml_of(PROTO_OP_O311_REQUESTS,
	           "[{\"description\": \"a\\u0000b\\u0001c\\u0008d\\u000be\\u001ff\\tg\\nh\\ri"
	           "\\ufffej\"}]");
	has(x, "<description>a\xEF\xBF\xBD"
	       "b\xEF\xBF\xBD"
	       "c\xEF\xBF\xBD"
	       "d\xEF\xBF\xBD"
	       "e\xEF\xBF\xBD"
	       "f\tg\nh");
	/* CR as a character reference: a parser would turn a raw one into LF */
	has(x, "h&#13;i");
	ck_assert_ptr_null(strstr(x, "&#1;"));
	has(x, "i\xEF\xBF\xBDj</description>");
	free(x);

	/* bytes that are not UTF-8 (json-c keeps them as given) */
	o = json_object_new_array();
	json_object_array_add(o, json_object_new_object());
	json_object_object_add(json_object_array_get_idx(o, 0), "description",
	                       json_object_new_string("x\xC0\x80y\xFFz"));
	ck_assert_int_eq(open311_xml(PROTO_OP_O311_REQUESTS, o, &y, &len), 0);
	has(y, "<description>x\xEF\xBF\xBD\xEF\xBF\xBDy\xEF\xBF\xBDz</description>");
	free(y);
	json_object_put(o);
}
END_TEST

START_TEST(test_refused)
{
	static const struct {
		enum proto_op op;
		const char *json;
	} bad[] = {
		{ PROTO_OP_O311_SERVICES, "{}" },             /* a list expected */
		{ PROTO_OP_O311_SERVICE, "[]" },              /* an object expected */
		{ PROTO_OP_O311_REQUESTS, "[{\"a b\": 1}]" }, /* not an XML name */
		{ PROTO_OP_O311_REQUESTS, "[{\"1a\": 1}]" },
		{ PROTO_OP_O311_REQUESTS, "[{\"x\": [1]}]" }, /* a list with no item name */
		{ PROTO_OP_O311_REQUESTS,
		  "[{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}]" }, /* too
		                                                                              deep
		                                                                            */
		{ PROTO_OP_GET, "{}" }, /* not an Open311 op */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *o = json_tokener_parse(bad[i].json);
		char *out = (char *)1;
		size_t len = 5;

		ck_assert_ptr_nonnull(o);
		ck_assert_msg(open311_xml(bad[i].op, o, &out, &len) == -1, "%s", bad[i].json);
		ck_assert_ptr_null(out);
		ck_assert_uint_eq(len, 0);
		json_object_put(o);
	}
}
END_TEST

START_TEST(test_errors_and_discovery)
{
	char *x;
	size_t len;
	json_object *d;

	ck_assert_int_eq(open311_xml_errors(403, "api_key <is> invalid", &x, &len), 0);
	has(x, "<errors><error><code>403</code><description>api_key &lt;is&gt; invalid"
	       "</description></error></errors>");
	free(x);
	ck_assert_int_eq(open311_xml_errors(404, NULL, &x, &len), 0);
	has(x, "<code>404</code><description></description>");
	free(x);

	d = json_tokener_parse("{\"changeset\": \"2026-12-01T00:00:00+08:00\", \"contact\": \"c\","
	                       " \"key_service\": \"k\", \"endpoints\": [{\"specification\":"
	                       " \"http://wiki.open311.org/GeoReport_v2\", \"url\": \"https://h/\","
	                       " \"type\": \"production\", \"formats\": [\"text/xml\","
	                       " \"application/json\"]}]}");
	ck_assert_int_eq(open311_xml_discovery(d, &x, &len), 0);
	has(x, "<discovery><changeset>2026-12-01T00:00:00+08:00</changeset>");
	has(x, "<endpoints><endpoint><specification>http://wiki.open311.org/GeoReport_v2"
	       "</specification>");
	has(x, "<formats><format>text/xml</format><format>application/json</format></formats>");
	free(x);
	json_object_put(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("open311_xml");
	TCase *tc = tcase_create("open311_xml");

	tcase_add_test(tc, test_services);
	tcase_add_test(tc, test_service_definition);
	tcase_add_test(tc, test_requests);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_errors_and_discovery);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	xmlCleanupParser();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
