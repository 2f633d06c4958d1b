// Usage: node transfer.mjs RPC_URL PRIVATE_KEY TO AMOUNT_WEI
// Sends a transfer with ethers.js, waits for its receipt and prints one JSON
// line with what the client saw. Exits non-zero on any failure.
import { JsonRpcProvider, Wallet } from 'ethers';

const [url, key, to, amount] = process.argv.slice(2);
const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, polling: true, pollingInterval: 100 });
const wallet = new Wallet(key, provider);
const net = await provider.getNetwork();
const before = await provider.getBalance(to);
const tx = await wallet.sendTransaction({ to, value: BigInt(amount) });
const receipt = await receiptOf(tx.hash);
const after = await provider.getBalance(to);
const block = await provider.getBlock(receipt.blockNumber);
console.log(JSON.stringify({
  chainId: net.chainId.toString(),
  hash: tx.hash,
  status: receipt.status,
  blockNumber: receipt.blockNumber,
  blockHash: receipt.blockHash,
  blockHasTx: block.transactions.includes(tx.hash),
  gasUsed: receipt.gasUsed.toString(),
  delta: (after - before).toString(),
}));

// receiptOf polls for a tx's receipt. Not tx.wait: when the receipt is not
// there yet it waits for a *new* block, and its block poller takes the
// first head it sees as already known, so a tx executed between wait's
// receipt check and that first poll is never seen on a rollup that makes
// blocks only when it has txs (CI saw it time out; docs/rollups.md).
async function receiptOf(hash) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
