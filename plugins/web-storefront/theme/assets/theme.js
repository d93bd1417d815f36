// Progressive enhancement only: every form works without this file.
(function () {
  'use strict';
  document.documentElement.classList.add('js');
  var token = document.querySelector('input[name="authenticity_token"]');
  var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
  if (token) headers['X-CSRF-Token'] = token.value;
  function cartUrl(form, suffix) { return form.getAttribute('action') + suffix; }

  function setCount(count) {
    document.querySelectorAll('[data-cart-count]').forEach(function (el) { el.textContent = count; });
  }

  // Variant picker: keep the hidden variant id, price and address in step with the selects.
  var json = document.getElementById('ProductJson');
  var picker = document.querySelector('[data-variant-picker]');
  var productForm = document.querySelector('[data-product-form]');
  if (json && picker && productForm) {
    var product = JSON.parse(json.textContent);
    picker.addEventListener('change', function () {
      var chosen = Array.prototype.map.call(picker.querySelectorAll('select'), function (s) { return s.value; });
      var variant = product.variants.find(function (v) {
        return v.options.every(function (value, i) { return value === chosen[i]; });
      });
      if (!variant) return;
      productForm.querySelector('[data-variant-id]').value = variant.id;
      var button = productForm.querySelector('[data-add-button]');
      button.disabled = !variant.available;
      var url = new URL(window.location.href);
      url.searchParams.set('variant', variant.id);
      window.history.replaceState({}, '', url.toString());
      var price = document.querySelector('[data-price]');
      if (price && variant.price_formatted) price.textContent = variant.price_formatted;
      var availability = document.querySelector('[data-availability]');
      if (availability) availability.textContent = availability.getAttribute(variant.available ? 'data-in-stock' : 'data-sold-out');
    });
  }

  // Add to cart without leaving the page, through the Ajax cart API.
  if (productForm && window.fetch) {
    productForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var status = productForm.querySelector('[data-form-status]');
      var body = {
        id: productForm.querySelector('[name="id"]').value,
        quantity: parseInt(productForm.querySelector('[name="quantity"]').value, 10) || 1
      };
      fetch(cartUrl(productForm, '.js'), { method: 'POST', headers: headers, body: JSON.stringify(body), credentials: 'same-origin' })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (result) {
          if (!result.ok) { status.textContent = result.data.description || result.data.message; return; }
          status.textContent = productForm.getAttribute('data-added') || '\u2713';
          return fetch(productForm.getAttribute('action').replace(/\/add$/, '') + '.js', { credentials: 'same-origin' })
            .then(function (r) { return r.json(); })
            .then(function (cart) { setCount(cart.item_count); });
        })
        .catch(function () { productForm.submit(); });
    });
  }
})();
