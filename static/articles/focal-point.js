// Photo admin: show the focal point on the preview, and set it by clicking the picture.
"use strict";
(() => {
  const place = (preview, x, y) => {
    const marker = preview.querySelector(".focal-point-marker");
    marker.style.left = `${x * 100}%`;
    marker.style.top = `${y * 100}%`;
    marker.hidden = false;
  };
  const start = () => {
    for (const preview of document.querySelectorAll(".focal-point")) {
      place(preview, preview.dataset.x, preview.dataset.y);
      preview.querySelector("img").addEventListener("click", (event) => {
        const box = event.target.getBoundingClientRect();
        const clamp = (v) => Math.min(1, Math.max(0, v)).toFixed(3);
        const x = clamp((event.clientX - box.left) / box.width);
        const y = clamp((event.clientY - box.top) / box.height);
        document.getElementById("id_focal_x").value = x;
        document.getElementById("id_focal_y").value = y;
        place(preview, x, y);
      });
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
