// The named checks of the end-to-end scripts: each prints "ok <name>", or "FAIL <name>: …" and marks
// the run failed, and the script goes on to its next check so one run reports every failure.
export async function check(name, body) {
  try {
    await body();
    console.log(`ok ${name}`);
  } catch (error) {
    console.log(`FAIL ${name}: ${error.stack ?? error}`);
    process.exitCode = 1;
  }
}
