-- 023: what the web console's supervisor screens read (issue 15): the
-- arbitration queue (st_returns, 55_console.sql) walks the return events in
-- seq order; this index holds only those, so the queue never reads the rest
-- of the log.  A return's ruling is found through 014's unique index.
CREATE INDEX ticket_event_return ON ticket_event (seq) WHERE action = 'return';
