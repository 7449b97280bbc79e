// fuzz_config.cpp — load_config on the input written as reclaim.toml (mode
// 0600): a bad file is a config_error naming what is wrong; any other
// exception escapes and is a finding.
#include "config/config.hpp"
#include "fuzz_support.hpp"

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const auto path = fuzz::temp_dir() / "reclaim.toml";
  fuzz::write_file(path, std::string_view(reinterpret_cast<const char *>(data), size), 0600);
  try {
    (void)load_config(path);
  } catch (const config_error &) {
  }
  return 0;
}
