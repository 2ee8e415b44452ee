#include "ui/token_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "policy/profile.h"

namespace memopt::ui {

// The token file must be the user's own and private, as the daemon writes it.
Result<std::string> read_token_file(const std::string& path) {
  if (auto st = policy::check_private_file(path, "the daemon token"); !st) return st.error();
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty() || token.size() > 512)
    return make_error("the daemon token " + path + " is empty or malformed");
  return token;
}

std::string token_file_or_default(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  // The daemon keeps its token in the state dir (daemon/api_auth.h).
  const std::string default_token = policy::default_state_dir() + "/api_token";
  struct stat st {};
  return stat(default_token.c_str(), &st) == 0 ? default_token : std::string();
}

}  // namespace memopt::ui
