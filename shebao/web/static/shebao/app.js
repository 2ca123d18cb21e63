/*
 * shebao — small page behaviours. No dependencies besides htmx (and ECharts on pages that load it).
 *
 *  - CSRF: every htmx request carries X-CSRFToken from <meta name="csrf-token">.
 *  - data-confirm="文字": on a link/button (click) or a <form> (submit) asks before going on;
 *    works for htmx elements too (the event is stopped before htmx sees it).
 *  - data-print: click → window.print().
 *  - a[data-back]: goes back in history when we came from this site, else follows its href.
 *  - data-dismiss: click removes the closest .alert (or [data-dismissible]).
 *  - data-check-all="name": a checkbox that ticks every input[name=name] in the same form (or page).
 *  - data-submit-once on a <form>: its submit buttons are disabled after the first submit.
 *  - Charts: <div class="chart" data-chart-id="X"></div> + <script type="application/json" id="X">{option}</script>
 *    → echarts.init(div).setOption(option); resized with the window; also for content htmx swaps in.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var token = csrfToken();
    if (token) {
      evt.detail.headers["X-CSRFToken"] = token;
    }
  });

  /* --- confirm dialogs ------------------------------------------------ */
  document.addEventListener(
    "click",
    function (evt) {
      var el = evt.target.closest ? evt.target.closest("[data-confirm]") : null;
      if (!el || el.tagName === "FORM") {
        return;
      }
      if (!window.confirm(el.getAttribute("data-confirm"))) {
        evt.preventDefault();
        evt.stopImmediatePropagation();
        evt.stopPropagation();
      }
    },
    true
  );

  document.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      if (form && form.hasAttribute && form.hasAttribute("data-confirm")) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          evt.preventDefault();
          evt.stopImmediatePropagation();
          evt.stopPropagation();
          return;
        }
      }
      if (form && form.hasAttribute && form.hasAttribute("data-submit-once") && !evt.defaultPrevented) {
        // Disable after the browser has collected the form data (so the submitter's name/value is sent).
        window.setTimeout(function () {
          var buttons = form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]');
          for (var i = 0; i < buttons.length; i++) {
            buttons[i].disabled = true;
          }
        }, 0);
      }
    },
    true
  );

  /* --- print, dismiss, check-all ------------------------------------- */
  document.addEventListener("click", function (evt) {
    if (!evt.target.closest) {
      return;
    }
    var printer = evt.target.closest("[data-print]");
    if (printer) {
      evt.preventDefault();
      window.print();
      return;
    }
    var back = evt.target.closest("a[data-back]");
    if (back && window.history.length > 1 && document.referrer && document.referrer.indexOf(window.location.origin + "/") === 0) {
      evt.preventDefault();
      window.history.back();
      return;
    }
    var dismiss = evt.target.closest("[data-dismiss]");
    if (dismiss) {
      evt.preventDefault();
      var box = dismiss.closest(".alert, [data-dismissible]");
      if (box) {
        box.parentNode.removeChild(box);
      }
    }
  });

  document.addEventListener("change", function (evt) {
    var master = evt.target;
    if (!master || !master.hasAttribute || !master.hasAttribute("data-check-all")) {
      return;
    }
    var name = master.getAttribute("data-check-all");
    // A form's elements include the inputs tied to it by a form="…" attribute outside it.
    var boxes = master.form ? master.form.elements : document.querySelectorAll('input[type="checkbox"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i] !== master && boxes[i].type === "checkbox" && boxes[i].name === name && !boxes[i].disabled) {
        boxes[i].checked = master.checked;
      }
    }
  });

  /* --- ECharts -------------------------------------------------------- */
  var THEME = "shebao";
  var themeRegistered = false;

  function registerTheme() {
    if (themeRegistered || !window.echarts) {
      return;
    }
    window.echarts.registerTheme(THEME, {
      color: ["#1f4e8c", "#3a8ad6", "#21a366", "#e08a1e", "#c0302b", "#7b5cc4", "#14a3a3", "#8a93a0"],
      textStyle: {
        fontFamily: '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif'
      }
    });
    themeRegistered = true;
  }

  function initCharts(root) {
    if (!window.echarts || !root || !root.querySelectorAll) {
      return;
    }
    registerTheme();
    var nodes = [];
    if (root.matches && root.matches(".chart[data-chart-id]")) {
      nodes.push(root);
    }
    var found = root.querySelectorAll(".chart[data-chart-id]");
    for (var i = 0; i < found.length; i++) {
      nodes.push(found[i]);
    }
    nodes.forEach(function (div) {
      if (window.echarts.getInstanceByDom(div)) {
        return;
      }
      var source = document.getElementById(div.getAttribute("data-chart-id"));
      if (!source) {
        return;
      }
      var option;
      try {
        option = JSON.parse(source.textContent);
      } catch (err) {
        if (window.console) {
          window.console.error("chart option is not valid JSON:", div.getAttribute("data-chart-id"), err);
        }
        return;
      }
      var chart = window.echarts.init(div, THEME, { renderer: div.getAttribute("data-renderer") || "canvas" });
      chart.setOption(option);
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    if (!window.echarts) {
      return;
    }
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      var charts = document.querySelectorAll(".chart[data-chart-id]");
      for (var i = 0; i < charts.length; i++) {
        var inst = window.echarts.getInstanceByDom(charts[i]);
        if (inst) {
          inst.resize();
        }
      }
    }, 120);
  });

  // Free chart instances whose element htmx is about to remove.
  document.addEventListener("htmx:beforeCleanupElement", function (evt) {
    var el = evt.target;
    if (window.echarts && el && el.matches && el.matches(".chart[data-chart-id]")) {
      var inst = window.echarts.getInstanceByDom(el);
      if (inst) {
        inst.dispose();
      }
    }
  });

  document.addEventListener("htmx:load", function (evt) {
    initCharts(evt.target);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      initCharts(document);
    });
  } else {
    initCharts(document);
  }
})();
