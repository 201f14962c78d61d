package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StatementPathTest {

  @Test
  void statementIsNamedAfterItsReportSoThatJvmsSharingAFolderKeepTheirOwn() {
    assertThat(AgentRuntime.statementBeside(Path.of("jouletrace-report.json")))
        .isEqualTo(Path.of("jouletrace-statement.md"));
    assertThat(AgentRuntime.statementBeside(Path.of("/r/app-1-exec-0.json")))
        .isEqualTo(Path.of("/r/app-1-exec-0.statement.md"));
    assertThat(AgentRuntime.statementBeside(Path.of("/r/run.out")))
        .isEqualTo(Path.of("/r/run.out.statement.md"));
  }
}
