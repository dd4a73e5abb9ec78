// A client app generated from the served OpenAPI document (openapi-typescript types + openapi-fetch), as a client
// developer would write it. OpenApiContractTests type-checks it against the document of the real API (tsc --strict)
// and runs it against that API: a renamed field, a changed type or a missing operation fails one or the other.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

declare const process: { argv: string[]; exit(code: number): never };

type JobView = components["schemas"]["JobView"];
type JobStatus = components["schemas"]["JobStatus"];
const terminal: JobStatus[] = ["Completed", "Failed", "Cancelled"];

async function main(): Promise<void> {
    const [baseUrl, apiKey] = process.argv.slice(2);
    const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

    const kernels = await api.GET("/kernels");
    if (!kernels.data?.some(k => k.name === "montecarlo-pi")) throw new Error(`no montecarlo-pi in ${JSON.stringify(kernels.data)}`);

    const quote = await api.POST("/jobs/quote", { body: { kernel: "montecarlo-pi", parameters: { samples: 400000, units: 4, seed: 1 } } });
    if (quote.data?.unitCount !== 4) throw new Error(`quote: ${JSON.stringify(quote.error ?? quote.data)}`);

    const submitted = await api.POST("/jobs", {
        body: { kernel: "montecarlo-pi", parameters: { samples: 400000, units: 4, seed: 1 }, redundancy: 1, priority: 0 },
        headers: { "Idempotency-Key": "contract-client-1" },
    });
    if (!submitted.data) throw new Error(`submit: ${JSON.stringify(submitted.error)}`);
    const jobId: string = submitted.data.jobId;

    let job: JobView | undefined;
    for (let i = 0; i < 1200 && !(job && terminal.includes(job.status as JobStatus)); i++) {
        if (i > 0) await new Promise(resolve => setTimeout(resolve, 50));
        job = (await api.GET("/jobs/{jobId}", { params: { path: { jobId } } })).data;
    }
    if (job?.status !== "Completed") throw new Error(`job ended ${JSON.stringify(job)}`);

    const listed = await api.GET("/jobs", { params: { query: { limit: 10 } } });
    if (!listed.data?.some(j => j.jobId === jobId)) throw new Error("the job is not in GET /jobs");

    const missing = await api.GET("/jobs/{jobId}", { params: { path: { jobId: "no-such-job" } } });
    if (missing.response.status !== 404) throw new Error(`unknown job answered ${missing.response.status}`);

    const anonymous = createClient<paths>({ baseUrl });
    const refused = await anonymous.GET("/jobs/{jobId}", { params: { path: { jobId } } });
    if (refused.response.status !== 401) throw new Error(`no key answered ${refused.response.status}`);

    const epochs = await anonymous.GET("/epochs", { params: { query: { limit: 5 } } });
    if (!Array.isArray(epochs.data)) throw new Error("GET /epochs is not public");

    console.log(JSON.stringify({ jobId, status: job.status, unitsCompleted: job.unitsCompleted, resultSummary: job.resultSummary }));
}

main().catch(error => {
    console.error(error);
    process.exit(1);
});
