// Octane driver, shared by every engine the bench runs (isovm backends and native Boa).
// Evaluated after base.js and one benchmark file, in the same global scope; its completion
// value is a JSON string: {"results": [{"name", "score"} | {"name", "error"}], "score",
// "log"}. Nothing here touches the host: engines need only ECMAScript.
(function () {
  var log = [];
  // base.js and the benchmarks may print; keep it, the host shows it on errors.
  if (typeof globalThis.print !== 'function') {
    globalThis.print = function () {
      log.push(Array.prototype.join.call(arguments, ' '));
    };
  }
  var results = [];
  var total = null;
  BenchmarkSuite.RunSuites({
    NotifyResult: function (name, score) {
      results.push({ name: String(name), score: String(score) });
    },
    NotifyError: function (name, error) {
      var text = String(error);
      if (error && error.stack) text += '\n' + error.stack;
      results.push({ name: String(name), error: text });
    },
    NotifyScore: function (score) {
      total = String(score);
    },
  });
  return JSON.stringify({ results: results, score: total, log: log });
})();
