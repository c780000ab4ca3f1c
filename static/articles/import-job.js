// An import job's page: while a worker has the job, fetch its status every second and put the job's panel,
// as the server renders it, in place of the old one (progress, then the report and its buttons).
"use strict";
(() => {
  const every = 1000;
  const refresh = async (panel) => {
    while (panel.dataset.active === "true") {
      await new Promise((resolve) => setTimeout(resolve, every));
      let status;
      try {
        const response = await fetch(panel.dataset.status, { headers: { Accept: "application/json" } });
        if (!response.ok) continue;
        status = await response.json();
      } catch {
        continue; // the server is restarting, or the network dropped: try again
      }
      const fresh = new DOMParser().parseFromString(status.html, "text/html").getElementById("import-job");
      panel.replaceWith(fresh);
      panel = fresh;
    }
  };
  const start = () => {
    const panel = document.getElementById("import-job");
    if (panel) refresh(panel);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
