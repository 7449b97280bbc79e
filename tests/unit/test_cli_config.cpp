// test_cli_config.cpp — what reclaimctl and the engine say about modes and
// the config file: the shipped example is a dry run, and a config edited on
// disk after the load is noticed (config_changed_on_disk), with the file's
// new SHA-256, or "unreadable" when it is gone.
#include "config/config.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

BOOST_AUTO_TEST_SUITE(cli_config)

BOOST_AUTO_TEST_CASE(the_shipped_example_config_is_a_dry_run) {
  const auto cfg = reclaim::load_config(std::filesystem::path(RECLAIM_SOURCE_DIR) / "packaging/config/reclaim.toml");
  BOOST_TEST(cfg.policy.dry_run, "packaging/config/reclaim.toml enforces from the first change");
}

BOOST_AUTO_TEST_CASE(a_config_edited_after_the_load_is_noticed) {
  reclaim::unit::temp_dir dir;
  const auto cfg = reclaim::unit::load_toml(dir, reclaim::unit::config_text(dir));
  BOOST_TEST(!reclaim::config_changed_on_disk(cfg).has_value());
  {
    std::ofstream out(cfg.path, std::ios::app);
    out << "# edited: mode = \"enforce\" soon\n";
  }
  const auto changed = reclaim::config_changed_on_disk(cfg);
  BOOST_TEST_REQUIRE(changed.has_value());
  BOOST_TEST(changed->size() == 64u, *changed);
  BOOST_TEST(*changed != cfg.sha256);
  BOOST_TEST(*changed == reclaim::load_config(cfg.path).sha256);
  std::filesystem::remove(cfg.path);
  const auto gone = reclaim::config_changed_on_disk(cfg);
  BOOST_TEST_REQUIRE(gone.has_value());
  BOOST_TEST(gone->rfind("unreadable: ", 0) == 0u, *gone);
}

BOOST_AUTO_TEST_SUITE_END()
