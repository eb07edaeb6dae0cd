"""A witness (c2sp.org/tlog-witness): cosigns a log's checkpoints after checking each is
consistent with the last one it cosigned, and remembers that one durably."""
