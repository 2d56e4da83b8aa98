// Package minutes keeps the minute-by-minute record of each agent's status
// compactly: one AgentStatusDay row per agent per UTC day, whose payload
// says which status the agent held in each of the day's 1,440 minutes.
//
// # What a minute holds
//
// Minute m of a day (0 ≤ m < 1440) holds the status in force at its start,
// dayStart + m minutes: the status of the latest change at or before that
// instant. So a change at 09:00:00 counts from minute 540, and a change at
// 09:00:01 only from minute 541. Sampling at the start (rather than, say,
// the status held longest within the minute) makes each minute depend on a
// single instant, so a day's record is a pure function of the status held
// at 00:00 and the day's changes, and a status held for less than a minute
// between two starts leaves no trace, as a minute record should.
//
// # The encoding
//
// A day is a dictionary of the statuses it holds and the runs of minutes in
// each, in this byte layout:
//
//	version   1 byte, Version (1)
//	n         uvarint: the number of statuses in the dictionary
//	statuses  n × 16 bytes: each status ID's ULID in binary; the "AS"
//	          prefix of agent status IDs is implied
//	runs      until the end: pairs of uvarints (index, minutes), where
//	          index 0 is "no status" and index i ≥ 1 is statuses[i-1]
//
// The encoding is canonical, and Decode accepts only it: the runs cover
// exactly 1,440 minutes, every run is at least a minute long, two adjacent
// runs never share an index, the dictionary lists each status once and in
// the order of its first run, every dictionary entry is used, and every
// uvarint is minimal. So a day has exactly one encoding, and equal days
// have equal bytes.
//
// A typical working day (offline, a login, breaks, lunch, perhaps a
// meeting, a logout) holds four to six statuses and about a dozen runs:
// some 95 bytes, 64 to 96 of them the dictionary. A day spent offline is
// 21 bytes. In the store, the row around the payload weighs more than the
// payload: BenchmarkRecordSize measures about 400 bytes per agent-day in
// PostgreSQL with the table's indexes, 17 bytes per agent-hour, or 1.6 GB
// for 13 months of 10,000 agents.
//
// # Recording
//
// Build turns the change log of one agent-day into a Day, and Record does
// it for every agent of a tenant, reading the change log in a constant
// number of queries per page of agents and upserting one AgentStatusDay
// per agent, with the minutes the agent spent in a status that is not
// OFFLINE (its active minutes, for usage). RecordAll does it for every
// tenant, and a Recorder does that for each day once it is over.
package minutes
