package io.github.invertingproxy.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What a person does in Jupyter Notebook, done in headless Chromium through a proxy: open the
 * notebook list, create a Python notebook with its "New" button's own code, wait for its kernel to
 * start and answer over the kernel's WebSocket, run {@code print(6*7)} in the first cell, and read
 * the cell's output from the page.
 */
final class NotebookInChromium {
  private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);

  /** On the notebook list: ask for a new notebook in this same tab, then wait for its page. */
  private static final String NEW_NOTEBOOK = """
      (function () {
        var failed = document.querySelector('.modal .alert-danger');
        if (failed) return 'FAIL creating the notebook: ' + failed.textContent;
        if (location.pathname.indexOf('/notebooks/') === 0) return 'OPENED ' + location.pathname;
        if (!window.IPython || !IPython.new_notebook_widget) return 'loading the notebook list';
        if (!window.__newNotebookAsked) {
          window.__newNotebookAsked = true;
          IPython._target = '_self';
          IPython.new_notebook_widget.new_notebook('python3');
        }
        return 'creating a notebook';
      })()""";

  /** On the notebook: the kernel has started and answered its kernel_info request over the channel. */
  private static final String KERNEL_READY = """
      (function () {
        var nb = window.IPython && IPython.notebook;
        if (!nb || !nb.kernel) return 'waiting for the kernel';
        var indicator = $('#kernel_indicator_icon').attr('title') || '';
        if (indicator === 'Kernel Dead') return 'FAIL the kernel died';
        var connected = nb.kernel.is_connected();
        if (connected && nb.kernel.info_reply && nb.kernel.info_reply.status === 'ok') {
          return 'READY shim=' + (window.__invertingProxyWebSocketShim ? 'yes' : 'no');
        }
        return 'kernel connected=' + connected + ' indicator=' + indicator;
      })()""";

  /** Runs the cell once, then waits for its output. */
  private static final String RUN_CELL = """
      (function () {
        var nb = IPython.notebook;
        if (!window.__cellRun) {
          window.__cellRun = true;
          var cell = nb.get_cell(0);
          cell.set_text('print(6*7)');
          cell.execute();
        }
        var error = document.querySelector('#notebook .output_error');
        if (error) return 'FAIL the cell raised: ' + error.textContent;
        var out = document.querySelector('#notebook .output_area .output_text');
        return out ? 'OUTPUT ' + out.textContent.trim() : 'running the cell';
      })()""";

  private NotebookInChromium() {}

  /**
   * Does it all at {@code baseUrl} (ending with {@code /}) with {@code cookies}.
   *
   * @return the cell's output, as the page shows it
   * @throws AssertionError naming the step that failed, after printing the page's text and console
   *     and the given logs
   */
  static String runPrintSixTimesSeven(String baseUrl, Map<String, String> cookies, boolean shim,
      Map<String, Path> logs) throws Exception {
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      HeadlessChromium.Tab tab = chromium.tab(baseUrl + "tree", cookies);
      try {
        tab.await("the notebook list opening a new notebook", NEW_NOTEBOOK, "OPENED", STEP_TIMEOUT);
        String ready = tab.await("the Python kernel starting and answering", KERNEL_READY, "READY", STEP_TIMEOUT);
        if (!ready.equals("READY shim=" + (shim ? "yes" : "no"))) {
          throw new AssertionError("the notebook page " + (shim ? "lacks" : "has") + " the WebSocket shim: " + ready);
        }
        String output = tab.await("the cell's output", RUN_CELL, "OUTPUT", STEP_TIMEOUT);
        return output.substring("OUTPUT ".length());
      } catch (Throwable e) {
        try {
          System.out.println("=== page at " + tab.evaluate("location.href") + " ===\n"
              + tab.evaluate("document.body ? document.body.innerText.slice(0, 4000) : ''"));
        } catch (Exception unreadable) {
          e.addSuppressed(unreadable);
        }
        System.out.println("=== page console ===\n" + tab.console());
        for (Map.Entry<String, Path> log : logs.entrySet()) {
          System.out.println("=== " + log.getKey() + " (" + log.getValue() + ") ===\n" + tail(log.getValue()));
        }
        throw e;
      }
    }
  }

  private static String tail(Path log) {
    try {
      String text = Files.readString(log);
      return text.length() <= 20_000 ? text : "..." + text.substring(text.length() - 20_000);
    } catch (java.io.IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }
}
