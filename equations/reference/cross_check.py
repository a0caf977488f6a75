"""rfrisk's entropic solver against the Python reference (entropic_theory.py) on 40 random
specs of the family the reference supports (tanh or identity, L = 1-2, both priors, noise
0-0.3, starts c/r from 0.05 to 30, n/d_L up to 0.95). Cases where the reference's own
Newton does not converge (residual > 1e-10) are reported and skipped. Run from the
repository root after `cargo build --release`:

    python3 equations/reference/cross_check.py
"""
import sys, json, math, random, subprocess, os
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, here)
from entropic_theory import predict
random.seed(5)
worst, compared, skipped = 0.0, 0, 0
for case in range(40):
    L=random.choice([1,2]); act=random.choice(['tanh','identity'])
    d0=1000; widths=[d0]+[random.choice([800,1000,1500,2000]) for _ in range(L)]
    prior=random.choice(['halfnormal','gaussian'])
    r=math.exp(random.uniform(math.log(0.1),math.log(3)))
    sig=random.choice([0,0,0.05,0.3])
    ratio_c=math.exp(random.uniform(math.log(0.05),math.log(30)))
    cbar=ratio_c*r
    dl=widths[-1]
    lo=0.05; hi=0.95 if prior=='halfnormal' else 0.45
    rank=min(widths) if act=='identity' else dl
    n=int(random.uniform(lo,hi)*min(rank,dl)); n=max(n,2)
    args=[os.path.join(root, 'target/release/rfrisk'),'predict',os.path.join(root, 'examples/tanh-depth2.toml'),'--format','json',
      '--set',f'data.dim={d0}','--set',f'features.widths={widths[1:]}','--set',f'features.activation={act}',
      '--set',f'teacher.prior={"half-normal" if prior=="halfnormal" else "gaussian"}','--set',f'teacher.norm2={r*r!r}',
      '--set',f'teacher.noise_std={sig}','--set',f'training.samples={n}','--set','training.mirror=entropic',
      '--set',f'training.init={cbar/math.sqrt(dl)!r}']
    out=subprocess.run(args,capture_output=True,text=True)
    try:
        py=predict('entropic',act,widths,n,prior,r,cbar,sig)
        pyr=float(py['risk']) if max(abs(py['res'])) < 1e-10 else None
    except Exception as e:
        pyr=None
    if out.returncode==0:
        rr=json.loads(out.stdout)['excess_risk']
    else:
        rr=out.stderr.strip()[:80]
    rel = abs(rr-pyr)/abs(pyr) if isinstance(rr,float) and pyr else None
    print(case, act, widths, n, prior, f'r={r:.3g} c/r={ratio_c:.3g} sig={sig}', 'rust', rr, 'py', pyr, 'rel', rel, flush=True)
    if rel is None:
        skipped += 1
    else:
        compared, worst = compared + 1, max(worst, rel)
print(f'{compared} compared, largest relative difference {worst:.1e}; {skipped} skipped (reference not converged or rfrisk refused)')
