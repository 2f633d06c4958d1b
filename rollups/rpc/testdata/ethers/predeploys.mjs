// Usage: node predeploys.mjs RPC_URL PRIVATE_KEY
// Uses the rollup's genesis predeploys with ethers.js: Multicall3's
// aggregate3, Permit2's DOMAIN_SEPARATOR(), the deterministic deployment
// proxy's published pre-EIP-155 deployment tx (its deployer funded first) and
// a CREATE2 deployment through the proxy, the EntryPoint v0.7's code. Prints
// one JSON line with what the client saw; exits non-zero on any failure.
import { Contract, JsonRpcProvider, Transaction, Wallet, concat, getCreate2Address, keccak256, zeroPadValue } from 'ethers';

const MULTICALL3 = '0xcA11bde05977b3631167028862bE2a173976CA11';
const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
const PROXY = '0x4e59b44847b379578588920cA78FbF26c0B4956C';
const ENTRYPOINT = '0x0000000071727De22E5E9d8BAf0edAc6f37da032';
// From README.md of github.com/Arachnid/deterministic-deployment-proxy.
const PROXY_DEPLOY_TX = '0xf8a58085174876e800830186a08080b853604580600e600039806000f350fe7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf31ba02222222222222222222222222222222222222222222222222222222222222222a02222222222222222222222222222222222222222222222222222222222222222';
// Returns 42 from a 10-byte runtime.
const INITCODE = '0x69602a60005260206000f3600052600a6016f3';

const [url, key] = process.argv.slice(2);
const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, polling: true, pollingInterval: 100 });
const wallet = new Wallet(key, provider);

// receiptOf polls for a tx's receipt. Not tx.wait: it waits for a new block
// when the receipt is not there yet, and its block poller takes the first
// head it sees as already known, so a tx executed in between is never seen
// on a rollup that makes blocks only when it has txs. wait also throws on a
// failed tx.
async function receiptOf(hash) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const multicall = new Contract(MULTICALL3, [
  'function aggregate3((address target, bool allowFailure, bytes callData)[] calls) payable returns ((bool success, bytes returnData)[] returnData)',
  'function getChainId() view returns (uint256)',
], provider);
const permit2 = new Contract(PERMIT2, ['function DOMAIN_SEPARATOR() view returns (bytes32)'], provider);
const results = await multicall.aggregate3.staticCall([
  { target: MULTICALL3, allowFailure: false, callData: multicall.interface.encodeFunctionData('getChainId') },
  { target: PERMIT2, allowFailure: false, callData: permit2.interface.encodeFunctionData('DOMAIN_SEPARATOR') },
  { target: ENTRYPOINT, allowFailure: true, callData: '0xdeadbeef' },
]);
const domainSeparator = await permit2.DOMAIN_SEPARATOR();

const deploy = Transaction.from(PROXY_DEPLOY_TX);
const fund = await wallet.sendTransaction({ to: deploy.from, value: deploy.gasLimit * deploy.gasPrice });
await receiptOf(fund.hash);
const sent = await provider.broadcastTransaction(PROXY_DEPLOY_TX);
const deployReceipt = await receiptOf(sent.hash);

const salt = zeroPadValue('0x01', 32);
const create2 = await wallet.sendTransaction({ to: PROXY, data: concat([salt, INITCODE]) });
const create2Receipt = await receiptOf(create2.hash);
const predicted = getCreate2Address(PROXY, salt, keccak256(INITCODE));

console.log(JSON.stringify({
  multicall: results.map((r) => ({ success: r.success, returnData: r.returnData })),
  domainSeparator,
  deployHash: sent.hash,
  deployFrom: deploy.from,
  deployStatus: deployReceipt.status,
  create2Status: create2Receipt.status,
  predicted,
  predictedCode: await provider.getCode(predicted),
  entryPointCodeHash: keccak256(await provider.getCode(ENTRYPOINT)),
}));
