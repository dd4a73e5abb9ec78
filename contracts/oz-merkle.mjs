// Reference implementation used by the C# tests: builds an @openzeppelin/merkle-tree StandardMerkleTree
// over ["address", "uint256"] leaves and prints { root, proofs: { <address lowercase>: [hex...] } }.
//   node contracts/oz-merkle.mjs <leaves.json>    where leaves.json = [["0xabc...", "123"], ...]
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const values = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const tree = StandardMerkleTree.of(values, ['address', 'uint256']);
const proofs = {};
for (const [i, v] of tree.entries()) {
  proofs[v[0].toLowerCase()] = tree.getProof(i);
}
process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
