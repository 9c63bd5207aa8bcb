//! The seed README's three examples, as a Rust user would write them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine_api::{
    Backend, Callback, Context, Error, EvalOptions, Isolate, IsolateOptions, Reference, RunOptions,
    Script, TransferOptions, Value,
};

use crate::support::{R, setup_with};
use crate::{Case, ensure, ensure_eq};

/// The seed examples.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("seed/log_callback_apply_ignored", log_callback::<E>),
        Case::new("seed/memory_bomb_ends_in_memory_limit", memory_bomb::<E>),
        Case::new("seed/parallel_sum_four_isolates", parallel_sum::<E>),
    ]
}

/// `log` installed through `$0.applyIgnored`, then called from guest code.
fn log_callback<E: Backend>() -> R {
    let (_i, context) = setup_with::<E>(IsolateOptions::default())?;
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let log = Callback::new(move |args| {
        let text: Vec<String> = args
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{a:?}"))
            })
            .collect();
        sink.lock().unwrap().push(text.join(" "));
        Ok(Value::Undefined)
    });
    context.eval_closure(
        "globalThis.log = function(...args) {\n\
           $0.applyIgnored(undefined, args, { arguments: { copy: true } });\n\
         }",
        vec![Value::Reference(log.into_reference())],
        &EvalOptions {
            arguments: TransferOptions::reference(),
            ..Default::default()
        },
    )?;
    context.eval("log('hello world')", &EvalOptions::default())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    ensure_eq!(
        lines.lock().unwrap().clone(),
        vec!["hello world".to_string()]
    );
    Ok(())
}

/// The hostile script that keeps 2 MB arrays and logs; it must end in a memory-limit error.
fn memory_bomb<E: Backend>() -> R {
    let (isolate, context) = setup_with::<E>(IsolateOptions {
        memory_limit_mb: 32,
        ..Default::default()
    })?;
    let wasted = Arc::new(Mutex::new(0usize));
    let w = wasted.clone();
    let log = Callback::new(move |_| {
        *w.lock().unwrap() += 1;
        Ok(Value::Undefined)
    });
    context.eval_closure(
        "globalThis.log = function(...args) {\n\
           $0.applyIgnored(undefined, args, { arguments: { copy: true } });\n\
         }",
        vec![Value::Reference(log.into_reference())],
        &EvalOptions::default(),
    )?;
    let hostile = isolate.compile_script(
        "const storage = [];\n\
         const twoMegabytes = 1024 * 1024 * 2;\n\
         while (true) {\n\
           const array = new Uint8Array(twoMegabytes);\n\
           for (let ii = 0; ii < twoMegabytes; ii += 4096) {\n\
             array[ii] = 1; // we have to put something in the array to flush to real memory\n\
           }\n\
           storage.push(array);\n\
           log('I\\'ve wasted '+ (storage.length * 2)+ 'MB');\n\
         }",
        &Default::default(),
    )?;
    let result = pollster::block_on(hostile.run_async(&context, RunOptions::default()));
    match result {
        Err(Error::MemoryLimit) => {}
        other => return Err(format!("expected MemoryLimit, got {other:?}").into()),
    }
    ensure!(isolate.is_disposed());
    Ok(())
}

/// `sum` split over four isolates running in parallel on the worker pool.
fn parallel_sum<E: Backend>() -> R {
    let sum_src = "function sum(min, max) {\n\
                     let sum = 0;\n\
                     for (let ii = min; ii < max; ++ii) {\n\
                       sum += ii;\n\
                     }\n\
                     return sum;\n\
                   }";
    let num: u64 = 1 << 27;
    let threads = 4u64;
    let jobs: Vec<_> = (0..threads)
        .map(|ii| async move {
            let isolate = E::Isolate::new(IsolateOptions::default())?;
            let context = isolate.create_context_async().await?;
            let script = isolate
                .compile_script_async(sum_src, Default::default())
                .await?;
            script.run_async(&context, RunOptions::default()).await?;
            let global = context.global()?;
            let fn_reference = global
                .get_async("sum".into(), &TransferOptions::reference())
                .await?;
            let fn_reference = fn_reference
                .as_reference()
                .and_then(<E::Reference as engine_api::Reference>::from_any)
                .ok_or_else(|| Error::InvalidArgument("sum is not a reference".into()))?;
            let min = num / threads * ii;
            let max = num / threads * (ii + 1);
            fn_reference
                .apply_async(
                    Value::Undefined,
                    vec![min.into(), max.into()],
                    Default::default(),
                )
                .await
        })
        .map(|job| std::thread::spawn(move || pollster::block_on(job)))
        .collect();
    let mut total = 0.0;
    for j in jobs {
        let v = j.join().map_err(|_| "sum thread panicked".to_string())??;
        total += v.as_f64().ok_or("sum is not a number")?;
    }
    ensure_eq!(total, 9007199187632128.0);
    Ok(())
}
