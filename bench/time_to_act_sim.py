#!/usr/bin/env python3
"""time_to_act_sim.py — tests/sim/scim_sim.py, unchanged, plus the wall-clock
time (time.time(), before any work) at which each write (PATCH or DELETE of
a User) arrived, for bench/time_to_act.sh; /_control/state shows them as
"stamps": [{"t": unix seconds, "method": ..., "user": id}, ...].
(simcore sets TCP_NODELAY: without it Nagle's algorithm and the client's
delayed ACK added 40 ms per kept-alive request, the simulator's delay, not
reclaim's.)"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "sim"))
import scim_sim  # noqa: E402
import simcore  # noqa: E402


class StampingScimSim(scim_sim.ScimSim):
    def seed(self, body):
        super().seed(body)
        self.stamps = []

    def route(self, h, method, path, query, body):
        arrived = time.time()
        if method in ("PATCH", "DELETE") and path.startswith("/scim/v2/Users/"):
            with self.lock:
                self.stamps.append({"t": arrived, "method": method, "user": path.rsplit("/", 1)[1]})
        return super().route(h, method, path, query, body)

    def dump(self):
        d = super().dump()
        d["stamps"] = self.stamps
        return d


if __name__ == "__main__":
    simcore.serve(StampingScimSim(), __doc__)
