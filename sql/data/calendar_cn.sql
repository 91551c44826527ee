-- China's working-day calendar: the exceptions to the weekly rhythm.
--
-- The model (see calendar_day in 001_schema.sql): Monday to Friday are working
-- days unless listed here as 'holiday'; Saturday and Sunday are rest days
-- unless listed here as 'workday' (调休, a make-up working day).
--
-- Convention of this file: every day of a break is listed as 'holiday',
-- including the Saturdays and Sundays inside it.  Those weekend rows change
-- nothing in the deadline arithmetic (the day is off anyway), but the calendar
-- then reads like the State Council notice ("Feb 15 to 23 off") and an admin
-- can check it against the notice line by line.  Weekend days that are worked
-- are listed as 'workday'.
--
-- The calendar is data: an admin may edit calendar_day at any time and the
-- daemon uses the new rows without a restart.  This file is safe to run again
-- (each day is upserted); it never deletes a row, so a day removed from this
-- file must also be deleted from the table by hand.
--
-- Runs with search_path = street already set.

INSERT INTO calendar_day (day, kind, name)
SELECT d::date, r.kind, r.name
FROM (VALUES
	-- 2026: 国务院办公厅关于2026年部分节假日安排的通知 (State Council notice,
	-- published November 2025).
	-- 元旦: Jan 1 (Thu) to Jan 3 (Sat) off; Jan 4 (Sun) worked.
	(date '2026-01-01', date '2026-01-03', 'holiday', '元旦 New Year''s Day'),
	(date '2026-01-04', date '2026-01-04', 'workday', '元旦调休上班 New Year''s Day make-up workday'),
	-- 春节: Feb 15 (Sun) to Feb 23 (Mon) off; Feb 14 (Sat) and Feb 28 (Sat) worked.
	(date '2026-02-14', date '2026-02-14', 'workday', '春节调休上班 Spring Festival make-up workday'),
	(date '2026-02-15', date '2026-02-23', 'holiday', '春节 Spring Festival'),
	(date '2026-02-28', date '2026-02-28', 'workday', '春节调休上班 Spring Festival make-up workday'),
	-- 清明节: Apr 4 (Sat) to Apr 6 (Mon) off.
	(date '2026-04-04', date '2026-04-06', 'holiday', '清明节 Qingming Festival'),
	-- 劳动节: May 1 (Fri) to May 5 (Tue) off; May 9 (Sat) worked.
	(date '2026-05-01', date '2026-05-05', 'holiday', '劳动节 Labour Day'),
	(date '2026-05-09', date '2026-05-09', 'workday', '劳动节调休上班 Labour Day make-up workday'),
	-- 端午节: Jun 19 (Fri) to Jun 21 (Sun) off.
	(date '2026-06-19', date '2026-06-21', 'holiday', '端午节 Dragon Boat Festival'),
	-- 中秋节: Sep 25 (Fri) to Sep 27 (Sun) off.
	(date '2026-09-25', date '2026-09-27', 'holiday', '中秋节 Mid-Autumn Festival'),
	-- 国庆节: Oct 1 (Thu) to Oct 7 (Wed) off; Sep 20 (Sun) and Oct 10 (Sat) worked.
	(date '2026-09-20', date '2026-09-20', 'workday', '国庆节调休上班 National Day make-up workday'),
	(date '2026-10-01', date '2026-10-07', 'holiday', '国庆节 National Day'),
	(date '2026-10-10', date '2026-10-10', 'workday', '国庆节调休上班 National Day make-up workday'),

	-- 2027: PROVISIONAL.  The State Council's arrangement for 2027 (which
	-- weekdays are bridged, which weekend days are worked, and the extra day off
	-- given when a statutory day falls on a weekend) is not known yet.  Only the
	-- statutory holidays fixed by law are entered (全国年节及纪念日放假办法, the
	-- 2025 revision, in force from 1 January 2025): New Year 1 day, Spring Festival 4
	-- (eve and days 1-3), Qingming 1, Labour Day 2, Dragon Boat 1, Mid-Autumn 1,
	-- National Day 3.  Every one of these days stays off under any notice, so
	-- when the State Council notice is published, add its days (holidays and
	-- make-up workdays) here and to calendar_day; nothing below needs deleting.
	-- An admin updates the table; the daemon picks it up without a restart.
	(date '2027-01-01', date '2027-01-01', 'holiday', '元旦 New Year''s Day (provisional)'),
	-- Chinese New Year 2027 is Sat Feb 6: eve Fri Feb 5, days 1-3 Feb 6-8.
	(date '2027-02-05', date '2027-02-08', 'holiday', '春节 Spring Festival (provisional)'),
	(date '2027-04-05', date '2027-04-05', 'holiday', '清明节 Qingming Festival (provisional)'),
	-- May 1-2 2027 are a Saturday and a Sunday: the notice will add weekdays.
	(date '2027-05-01', date '2027-05-02', 'holiday', '劳动节 Labour Day (provisional)'),
	(date '2027-06-09', date '2027-06-09', 'holiday', '端午节 Dragon Boat Festival (provisional)'),
	(date '2027-09-15', date '2027-09-15', 'holiday', '中秋节 Mid-Autumn Festival (provisional)'),
	-- Oct 1-3 2027 are Friday to Sunday: the notice will add weekdays.
	(date '2027-10-01', date '2027-10-03', 'holiday', '国庆节 National Day (provisional)')
) AS r (first_day, last_day, kind, name),
	generate_series(r.first_day, r.last_day, interval '1 day') AS d
ON CONFLICT (day) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name;
