// The four workloads. Each one sets up its clients on a ClientPool, waits for the set-up
// traffic (joins announce themselves to every member) to die down, then measures:
//   broadcast  N subscribers + P publishers in one room; one step per rate
//   rooms      N clients in R rooms, every client posting; one step per rate
//   idle       N joined clients held; server RSS per connection
//   storm      the set-up itself: connect + Hello + Join as fast as the server allows
#pragma once

#include "options.hpp"
#include "report.hpp"

namespace haven::load {

// Runs the workload against `servers` (resolved endpoints) and fills `report`.
void run_scenario(const Options& options, const std::vector<Endpoint>& servers,
                  const std::vector<pid_t>& server_pids, RunReport& report);

}  // namespace haven::load
