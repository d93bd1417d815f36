//! Number filters: Ruby arithmetic through `Num`.

use super::*;

pub(super) fn abs(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("abs", |v| Ok(num_result(to_number(v).abs())))(v, a)
}

pub(super) fn plus(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("plus", 1, 1)?;
    Ok(num_result(to_number(v).add(to_number(a.get(0)))))
}

pub(super) fn minus(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("minus", 1, 1)?;
    Ok(num_result(to_number(v).sub(to_number(a.get(0)))))
}

pub(super) fn times(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("times", 1, 1)?;
    Ok(num_result(to_number(v).mul(to_number(a.get(0)))))
}

pub(super) fn divided_by(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("divided_by", 1, 1)?;
    to_number(v).div(to_number(a.get(0))).map(num_result).ok_or_else(|| "divided by 0".into())
}

pub(super) fn modulo(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("modulo", 1, 1)?;
    to_number(v).rem(to_number(a.get(0))).map(num_result).ok_or_else(|| "divided by 0".into())
}

pub(super) fn round(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("round", 0, 1)?;
    let digits = match to_number(a.get(0)) {
        Num::Int(i) => i,
        n => n.to_f64() as i64,
    };
    let r = to_number(v).round(digits);
    // BigDecimal#round gives an Integer for no (or negative) decimal places.
    if digits <= 0 {
        return Ok(match r {
            Num::Int(i) => Value::Int(i),
            other => other.floor(),
        });
    }
    Ok(num_result(r))
}

pub(super) fn ceil(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("ceil", |v| Ok(to_number(v).ceil()))(v, a)
}

pub(super) fn floor(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("floor", |v| Ok(to_number(v).floor()))(v, a)
}

pub(super) fn at_least(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("at_least", 1, 1)?;
    let (x, y) = (to_number(v), to_number(a.get(0)));
    Ok(num_result(if y.cmp_num(x) == Ordering::Greater { y } else { x }))
}

pub(super) fn at_most(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("at_most", 1, 1)?;
    let (x, y) = (to_number(v), to_number(a.get(0)));
    Ok(num_result(if y.cmp_num(x) == Ordering::Less { y } else { x }))
}
