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
const receipt = await tx.wait(1, 60_000);
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
