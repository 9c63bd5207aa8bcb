// Fixed-work Octane driver (the bench's `ISOVM_OCTANE_ITERATIONS=N` mode), for counting
// instructions rather than timing: every benchmark of every loaded suite runs its body
// OCTANE_ITERATIONS times between its Setup and TearDown (which check the result), with
// no clock in the loop. The bench defines OCTANE_ITERATIONS before this file. Completion
// value: the driver.js JSON, each suite's "score" being the number of bodies it ran.
(function () {
  var n = OCTANE_ITERATIONS;
  if (typeof globalThis.print !== 'function') globalThis.print = function () {};
  BenchmarkSuite.ResetRNG();
  var results = [];
  BenchmarkSuite.suites.forEach(function (suite) {
    var runs = 0;
    try {
      suite.benchmarks.forEach(function (b) {
        b.Setup();
        for (var i = 0; i < n; i++) {
          b.run();
          runs++;
        }
        b.TearDown();
      });
      results.push({ name: suite.name, score: String(runs) });
    } catch (e) {
      var text = String(e);
      if (e && e.stack) text += '\n' + e.stack;
      results.push({ name: suite.name, error: text });
    }
  });
  return JSON.stringify({ results: results, score: null, log: [] });
})();
