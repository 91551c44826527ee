-- bench/accounts.sql: extra street-office accounts for bench/run, so that
-- 10,000 sessions fit under limits.max_sessions_per_account (at most 1000,
-- docs/config.md).  bench.s00 ... bench.s15 have zhang.wei's role and street
-- (Jianguolu), hence the same scope: the same tickets and events.
-- Run by bench/run as the superuser on the bench database only.
INSERT INTO street.account (login, name, name_en, role, street_id, cert_cn)
SELECT 'bench.s' || lpad(i::text, 2, '0'), '压测' || i, 'Bench street office ' || i,
	'street', a.street_id, 'bench.s' || lpad(i::text, 2, '0')
FROM generate_series(0, 15) AS i
JOIN street.account a ON a.login = 'zhang.wei'
ON CONFLICT DO NOTHING;
