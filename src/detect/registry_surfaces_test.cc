// Walks the runtime registry and checks every surface that derives from it:
// name lookup, the API client and its capabilities, the probe chain, the
// endpoint flags, and detection (a process showing a descriptor's strongest
// signal is classified as that runtime by the generic matcher). A runtime
// added with one file and one registry line is checked here without a test
// of its own.
#include <gtest/gtest.h>

#include <set>

#include "detect/detector.h"
#include "runtimes/probe.h"
#include "runtimes/registry.h"

namespace memopt::detect {
namespace {

using runtimes::RuntimeDescriptor;
using runtimes::Signal;

// A live process that shows exactly the rule `r`.
proc::ProcessInfo process_showing(const runtimes::SignalRule& r) {
  proc::ProcessInfo p;
  p.pid = 4242;
  p.ppid = 1;
  p.state = 'S';
  p.comm = "proc";
  const std::string pat(r.pattern);
  switch (r.signal) {
    case Signal::kProgram:
      p.exe = "/opt/x/" + pat;
      p.argv = {p.exe};
      break;
    case Signal::kProgramSuffix:
      p.exe = "/opt/x/model" + pat;
      p.argv = {p.exe};
      break;
    case Signal::kCommand: {
      const auto sp = pat.find(' ');
      p.exe = "/usr/bin/" + pat.substr(0, sp);
      p.argv = {p.exe, pat.substr(sp + 1)};
      break;
    }
    case Signal::kPythonModule:
      p.exe = "/usr/bin/python3";
      p.argv = {"python3", "-m", pat};
      break;
    case Signal::kScriptPath:
      p.exe = "/usr/bin/python3";
      p.argv = {"python3", "/home/u/" + pat};
      break;
    case Signal::kPythonCwd:
      p.exe = "/usr/bin/python3";
      p.argv = {"python3", "app.py"};
      p.cwd = "/home/u/" + pat;
      break;
    case Signal::kCommPrefix:
      p.comm = pat + "x";
      p.exe = "/usr/bin/python3.12";
      p.argv = {pat + "x"};
      break;
    case Signal::kLibraryPrefix:
      p.exe = "/opt/app/app";
      p.argv = {p.exe};
      p.libraries = {"/opt/app/lib/" + pat + ".so"};
      break;
    case Signal::kLibraryPath:
      p.exe = "/opt/app/app";
      p.argv = {p.exe};
      p.libraries = {"/opt" + pat + "lib.so"};
      break;
    case Signal::kExePath:
      p.exe = "/usr" + pat + "bin";
      p.argv = {p.exe};
      break;
  }
  return p;
}

TEST(RuntimeRegistry, EverySurfaceDerivesFromTheDescriptors) {
  std::set<std::string_view> ids, flags, aliases;
  int clients = 0;
  for (const RuntimeDescriptor* d : runtimes::all_runtimes()) {
    SCOPED_TRACE(std::string(d->id()));
    ASSERT_FALSE(d->id().empty());
    EXPECT_FALSE(d->name.empty());
    EXPECT_TRUE(ids.insert(d->id()).second) << "duplicate id";
    EXPECT_EQ(runtimes::find_runtime(d->id()), d);
    for (std::string_view a : d->aliases) {
      EXPECT_TRUE(aliases.insert(a).second);
      EXPECT_EQ(runtimes::find_runtime(a), d);
    }
    for (const runtimes::FlavorApi& f : d->flavor_api) {
      const RuntimeDescriptor* api = runtimes::api_runtime(d->id(), f.flavor);
      ASSERT_NE(api, nullptr) << f.flavor;
      EXPECT_TRUE(api->has_client());
    }
    for (const auto& r : d->rules) EXPECT_GT(r.confidence, 0) << r.pattern;
    if (!d->has_client()) {
      EXPECT_FALSE(runtimes::runtime_from_name(d->id()));
      EXPECT_EQ(d->identify, nullptr);
      continue;
    }
    ++clients;
    // Name lookup, default port, client, capabilities.
    ASSERT_EQ(runtimes::runtime_from_name(d->id()), d->kind);
    EXPECT_EQ(runtimes::runtime_name(d->kind), d->id());
    EXPECT_GT(d->api_port(), 0);
    EXPECT_EQ(runtimes::default_port(d->kind), d->api_port());
    auto client =
        runtimes::make_client(d->kind, runtimes::BaseUrl{"http", "127.0.0.1", d->api_port()});
    ASSERT_NE(client, nullptr);
    EXPECT_EQ(client->kind(), d->kind);
    const auto caps = client->capabilities();
    EXPECT_EQ(caps.unload, d->capabilities.unload);
    EXPECT_EQ(caps.preload, d->capabilities.preload);
    EXPECT_EQ(caps.reload, d->capabilities.reload);
    // The probe chain can name it, and the endpoint flags offer it.
    EXPECT_NE(d->identify, nullptr);
    ASSERT_FALSE(d->cli_flag.empty());
    EXPECT_TRUE(flags.insert(d->cli_flag).second) << "duplicate --" << d->cli_flag;
    EXPECT_NE(std::find(runtimes::all_runtime_kinds().begin(), runtimes::all_runtime_kinds().end(),
                        d->kind),
              runtimes::all_runtime_kinds().end());
  }
  EXPECT_GE(clients, 7);
  // Discovery asks every runtime with a client at its default port.
  auto eps = runtimes::discover_endpoints({});
  ASSERT_TRUE(eps);
  std::set<std::string_view> discovered;
  for (const auto& e : *eps) discovered.insert(e.kind->id());
  for (const RuntimeDescriptor* d : runtimes::all_runtimes()) {
    EXPECT_EQ(discovered.count(d->id()), d->has_client() ? 1u : 0u) << d->id();
  }
}

TEST(RuntimeRegistry, TheMatcherFindsEachRuntimeByItsStrongestSignal) {
  for (const RuntimeDescriptor* d : runtimes::all_runtimes()) {
    if (d->rules.empty()) continue;
    const runtimes::SignalRule* best = &d->rules.front();
    for (const auto& r : d->rules) {
      if (r.confidence > best->confidence) best = &r;
    }
    SCOPED_TRACE(std::string(d->id()) + " by " + std::string(best->pattern));
    Classification c = classify_process(process_showing(*best));
    ASSERT_NE(c.signature, nullptr);
    EXPECT_EQ(c.signature->id(), d->id());
    EXPECT_EQ(c.flavor, best->flavor);
  }
}

}  // namespace
}  // namespace memopt::detect
