// The seed's Deferred pattern: addCallbacks(success, failure) then addBoth(stop), with a fake
// asynchronous fetch standing in for getPage. Run: npx tsx examples/deferred-chain.ts [fail]
import { Deferred, type Failure, reactor } from "twisted-ts/internet";

/** Pretends to fetch a page: fires after 0.1 s, with a page or an error. */
function fetchPage(url: string, shouldFail: boolean): Deferred<string> {
  const d = new Deferred<string>();
  reactor.callLater(0.1, () => {
    if (shouldFail) d.errback(new Error(`Cannot fetch ${url}`));
    else d.callback(`<html>the page at ${url}</html>`);
  });
  return d;
}

function processPage(page: string): void {
  console.log(page);
}

function logError(error: Failure): void {
  console.log(`Error: ${error.getErrorMessage()}`);
}

function finishProcessing(): void {
  console.log("Shutting down...");
  reactor.stop();
}

const deferred = fetchPage("http://example.invalid/", process.argv[2] === "fail");
deferred.addCallbacks(processPage, logError);
deferred.addBoth(finishProcessing);
reactor.run();
