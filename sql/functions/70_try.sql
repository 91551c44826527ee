-- st_try, the form in which streetd commits several actions together.
--
-- Every action is its own function and, called alone, its own transaction.
-- When many sessions act at once, streetd instead runs the actions waiting
-- for a connection as one transaction (group commit: one WAL flush for all of
-- them, see daemon/db.h).  Each must still succeed or fail alone, so st_try
-- calls one action inside a subtransaction (the EXCEPTION block) and returns
-- its error instead of raising it: a failed action leaves nothing behind and
-- does not abort the others.
--
-- p_args are the action's parameters in its own order, as text (what the
-- daemon sends as statement parameters anyway); the casts below are the ones
-- PostgreSQL applies to parameters of the direct call, so a value that does
-- not convert fails with the same SQLSTATE (22xxx) either way.
--
-- Returns (result, NULL, NULL) with result = to_jsonb(action_result)::text,
-- exactly what the direct call returns, or (NULL, sqlstate, message).

CREATE OR REPLACE FUNCTION st_try(p_action text, a text[]) RETURNS try_result
LANGUAGE plpgsql AS $$
DECLARE
	r street.action_result;
	res street.try_result;
	v_state text;
	v_msg text;
BEGIN
	BEGIN
		CASE p_action
		WHEN 'report' THEN
			r := street.st_report(a[1]::integer, a[2]::integer, a[3]::integer, a[4], a[5],
				a[6]::double precision, a[7]::double precision, a[8]::boolean,
				a[9]::bigint[], a[10], a[11]);
		WHEN 'dispatch' THEN
			r := street.st_dispatch(a[1]::integer, a[2]::bigint, a[3]::integer,
				a[4]::integer, a[5], a[6]);
		WHEN 'return' THEN
			r := street.st_return(a[1]::integer, a[2]::bigint, a[3]::integer, a[4],
				a[5]::integer, a[6]);
		WHEN 'accept' THEN
			r := street.st_accept(a[1]::integer, a[2]::bigint, a[3]::integer, a[4]);
		WHEN 'resolve' THEN
			r := street.st_resolve(a[1]::integer, a[2]::bigint, a[3]::integer, a[4],
				a[5]::bigint[], a[6]);
		WHEN 'confirm' THEN
			r := street.st_confirm(a[1]::integer, a[2]::bigint, a[3]::integer,
				a[4]::integer, a[5], a[6]);
		WHEN 'reopen' THEN
			r := street.st_reopen(a[1]::integer, a[2]::bigint, a[3]::integer, a[4], a[5]);
		WHEN 'cancel' THEN
			r := street.st_cancel(a[1]::integer, a[2]::bigint, a[3]::integer, a[4],
				a[5]::bigint, a[6]);
		WHEN 'urge' THEN
			r := street.st_urge(a[1]::integer, a[2]::bigint, a[3], a[4]::integer, a[5]);
		WHEN 'extend_request' THEN
			r := street.st_extend_request(a[1]::integer, a[2]::bigint,
				a[3]::timestamptz, a[4], a[5]::integer, a[6]);
		WHEN 'extend_grant' THEN
			r := street.st_extend_grant(a[1]::integer, a[2]::bigint, a[3], a[4]::integer,
				a[5]);
		WHEN 'extend_deny' THEN
			r := street.st_extend_deny(a[1]::integer, a[2]::bigint, a[3], a[4]::integer,
				a[5]);
		WHEN 'comment' THEN
			r := street.st_comment(a[1]::integer, a[2]::bigint, a[3], a[4]::integer, a[5]);
		WHEN 'arbitrate' THEN
			r := street.st_arbitrate(a[1]::integer, a[2]::bigint, a[3]::bigint,
				a[4]::boolean, a[5], a[6]::integer, a[7]::integer, a[8]);
		WHEN 'o311_post' THEN
			-- not an action_result: the Open311 reply (88_open311.sql)
			res.result := to_jsonb(street.st_o311_post(a[1]::integer, a[2], a[3],
				a[4]::double precision, a[5]::double precision, a[6], a[7], a[8], a[9],
				a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17]))::text;
			RETURN res;
		END CASE;
		res.result := to_jsonb(r)::text;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
		res.sqlstate := v_state;
		res.message := v_msg;
	END;
	RETURN res;
END
$$;
