package io.jouletrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RunIdTest {

  @Test
  void aRunIdIsARandomUuidThatDiffersFromRunToRun() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String id = Outputs.newRunId();
      UUID u = UUID.fromString(id);
      assertEquals(id, u.toString());
      assertEquals(4, u.version(), id);
      assertEquals(2, u.variant(), id);
      assertTrue(seen.add(id), "repeated: " + id);
    }
  }
}
