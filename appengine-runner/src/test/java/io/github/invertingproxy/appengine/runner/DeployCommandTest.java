package io.github.invertingproxy.appengine.runner;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/** {@code make deploy-dry-run} (appengine.mk) prints the deployment that {@code make deploy} would run. */
public class DeployCommandTest {
  private record Run(int status, String out, String err) {}

  private static Run make(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("make", "-s", "--no-print-directory"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(new File("..")).start();
    p.getOutputStream().close();
    assertTrue("make did not finish", p.waitFor(60, TimeUnit.SECONDS));
    return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
        new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  private static String deployLine(Run run) {
    return run.out().lines().filter(l -> l.startsWith("gcloud app deploy")).findFirst().orElseThrow();
  }

  @Test
  public void theDryRunShowsEachServicesRuntime() throws Exception {
    Run run = make("deploy-dry-run", "PROJECT_ID=my-project");
    assertEquals(run.err(), 0, run.status());
    assertTrue(run.out(), run.out().contains("# proxy-service: runtime java21\n"
        + "# agent-service: runtime java21\n# admin-api-service: runtime java21\n"));
  }

  @Test
  public void byDefaultTheNewVersionIsPromoted() throws Exception {
    String deploy = deployLine(make("deploy-dry-run", "PROJECT_ID=my-project"));
    assertTrue(deploy, deploy.startsWith("gcloud app deploy --project=my-project --quiet proxy-service/"));
    assertTrue(deploy, !deploy.contains("--version") && !deploy.contains("--no-promote"));
  }

  @Test
  public void aNamedVersionCanBeDeployedWithoutTakingTraffic() throws Exception {
    String deploy = deployLine(make("deploy-dry-run", "PROJECT_ID=my-project", "VERSION=try-2", "PROMOTE=false"));
    assertTrue(deploy, deploy.startsWith("gcloud app deploy --project=my-project --quiet --version=try-2 --no-promote "));
  }

  @Test
  public void aBadVersionOrPromoteIsOneErrorLineAndNothingRuns() throws Exception {
    Run version = make("deploy-dry-run", "PROJECT_ID=my-project", "VERSION=Try_2");
    assertEquals(2, version.status());
    assertEquals("", version.out());
    assertTrue(version.err(), version.err().contains("VERSION \"Try_2\" is not an App Engine version id"));
    assertEquals(version.err(), 1, version.err().lines().count());

    Run promote = make("deploy", "PROJECT_ID=my-project", "PROMOTE=no", "GCLOUD=true");
    assertEquals(2, promote.status());
    assertEquals("", promote.out());
    assertTrue(promote.err(), promote.err().contains("PROMOTE \"no\" is neither true nor false"));
  }
}
