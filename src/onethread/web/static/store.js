// Choosing a device on record fills its model and purchase date (the form works without this).
(function () {
  var pick = document.getElementById("product_id");
  if (!pick) return;
  pick.addEventListener("change", function () {
    var o = pick.options[pick.selectedIndex];
    if (o.dataset.model) document.getElementById("device_model").value = o.dataset.model;
    if (o.dataset.bought) document.getElementById("purchased_on").value = o.dataset.bought;
    document.getElementById("fault_case_id").value = o.dataset.case || "";
  });
})();
