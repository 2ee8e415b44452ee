// start_gateway_in_process (cli/gateway_target.h) in the Windows build: the
// gateway starts its backends with fork/exec (src/serve/backend.cc), which
// has no Windows side yet, so `daemon --serve` says so instead of running a
// gateway that could not start a model (create_gateway and `serve` are not
// in this build).
#include "cli/gateway_target.h"

namespace memopt::cli {
namespace {

Error not_yet() {
  return Error{
      "the serve gateway is not in the Windows build yet (it starts model servers with "
      "fork/exec; the CreateProcess side is not written): run it on Linux, or point "
      "--gateway at one"};
}

}  // namespace

Result<InProcessGateway> start_gateway_in_process(const GlobalOptions&, const GatewayStart&,
                                                  std::optional<assembler::GatewayTarget>*, bool) {
  return not_yet();
}

}  // namespace memopt::cli
