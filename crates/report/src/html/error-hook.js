(function () {
  var root = document.documentElement, count = 0;
  root.dataset.consoleErrors = "0";
  function bump() { count += 1; root.dataset.consoleErrors = String(count); }
  window.addEventListener("error", bump, true);
  window.addEventListener("unhandledrejection", bump);
  var original = console.error;
  console.error = function () { bump(); return original.apply(console, arguments); };
})();
