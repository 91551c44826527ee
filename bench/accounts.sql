-- bench/accounts.sql: extra street-office accounts for bench/run, so that
-- 10,000 sessions fit under limits.max_sessions_per_account (at most 1000,
-- docs/config.md).  bench.s00 ... bench.s15 have zhang.wei's role and street
-- (Jianguolu), hence the same scope: the same tickets and events.
-- bench.o00 ... bench.o17 are street staff of another street: the push
-- benchmark's subscribers whose scope the driver's events are not in.
-- Run by bench/run as the superuser on the bench database only.
INSERT INTO street.account (login, name, name_en, role, street_id, cert_cn)
SELECT 'bench.s' || lpad(i::text, 2, '0'), '压测' || i, 'Bench street office ' || i,
	'street', a.street_id, 'bench.s' || lpad(i::text, 2, '0')
FROM generate_series(0, 15) AS i
JOIN street.account a ON a.login = 'zhang.wei'
ON CONFLICT DO NOTHING;

INSERT INTO street.account (login, name, name_en, role, street_id, cert_cn)
SELECT 'bench.o' || lpad(i::text, 2, '0'), '压测他街' || i, 'Bench other street ' || i,
	'street', s.id, 'bench.o' || lpad(i::text, 2, '0')
FROM generate_series(0, 17) AS i
CROSS JOIN (SELECT st.id FROM street.street st
	WHERE st.id <> (SELECT street_id FROM street.account WHERE login = 'zhang.wei')
	ORDER BY st.id LIMIT 1) s
ON CONFLICT DO NOTHING;
