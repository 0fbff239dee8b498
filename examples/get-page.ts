// The seed's asynchronous URL fetcher: getPage(url) returns a Deferred; addCallbacks(processPage,
// logError) then addBoth(finishProcessing), which stops the reactor.
// Run: npx tsx examples/get-page.ts http://127.0.0.1:8080/
import { type Failure, reactor } from "twisted-ts/internet";
import { getPage } from "twisted-ts/web/client";

function processPage(page: Buffer): void {
  process.stdout.write(page);
}

function logError(error: Failure): void {
  console.log(`Error: ${error.getErrorMessage()}`);
  process.exitCode = 1;
}

function finishProcessing(): void {
  console.log("Shutting down...");
  reactor.stop();
}

const url = process.argv[2] ?? "http://example.com/";
const deferred = getPage(url); // getPage returns a Deferred
deferred.addCallbacks(processPage, logError);
deferred.addBoth(finishProcessing);
reactor.run();
