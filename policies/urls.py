from django.urls import path

from . import views

app_name = "policies"

urlpatterns = [
    path("policy/", views.overview, name="overview"),
    path("measures/", views.measure_list, name="measure_list"),
    path("measures/<str:code>/", views.measure_detail, name="measure_detail"),
    path("interpretations/", views.interpretations, name="interpretations"),
]
